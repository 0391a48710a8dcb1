"""Pure domain rules of the hub: no I/O, no database, no HTTP.

:mod:`~hub.domain.lifecycle` (request states and the transition table),
:mod:`~hub.domain.approval` (who must approve), :mod:`~hub.domain.audit_chain` (event hashing
and chain verification), :mod:`~hub.domain.dsa` (the data sharing agreement document),
:mod:`~hub.domain.roles` (roles and principals).
"""
