"""A CSV posted to a page, pasted into a text box or chosen as a file (the safe-table and
public-use pages): one size bound, one decoding, one set of messages."""

from __future__ import annotations

from fastapi import UploadFile

#: The largest CSV a page takes, pasted or uploaded (as the CLI's ``--csv``).
MAX_CSV_BYTES = 2_000_000


class CsvFormError(Exception):
    """A form mistake shown on the page (422) before the hub is asked anything."""


async def posted_csv(csv: str, upload: UploadFile | None, *, what: str) -> str:
    """The uploaded file when one was chosen, else the pasted text. ``what`` names the
    expected content in the messages ("a table of counts", "the records")."""
    if upload is not None and upload.filename:
        data = await upload.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise CsvFormError(f"The file is larger than 2 MB: upload {what}.")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CsvFormError("The file is not UTF-8 text: save it as CSV (UTF-8).") from None
    if not csv.strip():
        raise CsvFormError(f"Paste {what} or choose a CSV file.")
    return csv
