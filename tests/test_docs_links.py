"""The documentation never points outside the repository: every relative link in the
README, the changelog, deploy/README.md, the client's README and docs/*.md names a file or
folder of this repository that exists (a user has the repository, nothing beside it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted({ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "deploy" / "README.md",
                    *ROOT.glob("client/*.md"), *ROOT.glob("docs/*.md")})
#: [text](target "title") and [label]: target, outside code spans and fenced blocks.
_INLINE = re.compile(r"\]\(\s*(?:<([^>\n]+)>|([^)\s]+))(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_EXTERNAL = re.compile(r"^(?:https?|mailto):", re.IGNORECASE)


def links(text: str) -> list[str]:
    """The link targets of a Markdown document (code blocks and spans are not links)."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", text))
    inline = [angled or bare for angled, bare in _INLINE.findall(text)]
    return [*inline, *_REFERENCE.findall(text)]


def broken_links(document: Path) -> list[str]:
    """Relative targets of ``document`` that leave the repository or do not exist."""
    broken = []
    for target in links(document.read_text(encoding="utf-8")):
        if _EXTERNAL.match(target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        if re.match(r"^[a-z][a-z0-9+.-]*:", path, re.IGNORECASE) or path.startswith("/"):
            broken.append(f"{target} (not a relative link)")
            continue
        resolved = (document.parent / path).resolve()
        if not resolved.is_relative_to(ROOT):
            broken.append(f"{target} (outside the repository)")
        elif not resolved.exists():
            broken.append(f"{target} (no such file)")
    return broken


def test_the_link_parser_finds_inline_and_reference_links_but_not_code() -> None:
    text = ("See [a](docs/a.md#x) and [b](<b c.md>) [c](../shared/DESIGN.md \"t\").\n"
            "`[not](a-link.md)`\n```\n[nor](this.md)\n```\n[ref]: ../outside.md\n")
    assert sorted(links(text)) == ["../outside.md", "../shared/DESIGN.md", "b c.md",
                                 "docs/a.md#x"]


def test_links_outside_the_repository_or_to_missing_files_are_reported() -> None:
    # The README's old link to the design notes beside the repository, and a typo.
    document = ROOT / "README.md"
    text = "[design](../shared/DESIGN.md) [ok](docs/hub.md#api) [web](https://example.org/x)"
    found = [t for t in links(text + " [typo](docs/hbu.md)")]
    assert found == ["../shared/DESIGN.md", "docs/hub.md#api", "https://example.org/x",
                     "docs/hbu.md"]
    assert not (document.parent / "../shared/DESIGN.md").resolve().is_relative_to(ROOT)


def test_broken_links_reads_a_document(tmp_path: Path) -> None:
    document = tmp_path / "page.md"
    document.write_text("[design](../shared/DESIGN.md) [ok](https://example.org/x) "
                        "[abs](/etc/passwd) [here](page.md#top)\n")
    assert broken_links(document) == ["../shared/DESIGN.md (outside the repository)",
                                      "/etc/passwd (not a relative link)",
                                      "page.md#top (outside the repository)"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    assert broken_links(document) == []
    assert "../shared" not in document.read_text(encoding="utf-8")
