"""The hub's second line against identifiers leaving a node: refuse identifier-like
variable *names* in requests and catalogs, and identifier-shaped cohort values.

The first line is the node (``node init`` keeps identifying columns out of the variables;
its egress guard checks every outgoing value). The hub never sees values, but it sees
names: :func:`protocol.identifier_names.identifier_reason` recognises ``FIRST_NM``,
``BIRTH_DT``, ``student_email``, ``CLIENT_ID``… beyond the ten canonical identity names.
Refusals are :class:`hub.errors.InvalidInputError` ``identifier_variable`` /
``identifier_value`` (422) naming the variable and the kind of identifier.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.domain.dsa import DataSharingAgreement
from hub.errors import InvalidInputError
from protocol.identifier_names import identifier_like, identifier_value_reason

IDENTIFIER_VARIABLE = "identifier_variable"
IDENTIFIER_VALUE = "identifier_value"


def refuse_identifier_names(names: Iterable[str], *, agency: str) -> None:
    """Raise ``identifier_variable`` (422) if any of ``names`` looks like an identifier."""
    found = identifier_like(list(names))
    if found:
        listed = ", ".join(f"{name!r} ({kind})" for name, kind in sorted(found.items()))
        raise InvalidInputError(
            f"agency {agency}: variable name(s) that look like a person's identifier are "
            f"never offered or requested: {listed}; the node must map them to identity "
            "fields or ignore them", code=IDENTIFIER_VARIABLE,
        )


def refuse_identifier_requests(dsa: DataSharingAgreement) -> None:
    """Refuse an agreement asking for identifier-like variables, or whose cohort
    conditions carry an identifier-shaped value (an SSN, e-mail, phone, ZIP+4)."""
    for entry in dsa.variables:
        conditions = entry.cohort.conditions
        refuse_identifier_names([*entry.variables, *(c.variable for c in conditions)],
                                agency=entry.agency)
        for condition in conditions:
            values = [getattr(condition, "value", None),
                      *(getattr(condition, "values", None) or ())]
            for value in values:
                kind = identifier_value_reason(value)
                if kind is not None:
                    raise InvalidInputError(
                        f"agency {entry.agency}: a cohort condition on "
                        f"{condition.variable!r} holds a value shaped like an identifier "
                        f"({kind}); conditions never carry identifiers",
                        code=IDENTIFIER_VALUE,
                    )
