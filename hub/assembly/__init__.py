"""The assembly role: opens node extract payloads and assembles linked extracts.

Separation of duties (docs/extracts.md): the hub API and the linkage workers (the *linkage
role*) hold every node's encodings while a run links them; they never hold the key that
opens the nodes' attribute payloads. That key, ``assembly.key``, lives in a directory of its
own that only ``fedlink hub assembler`` is given (:class:`~hub.assembly.settings.
AssemblySettings`); the nodes pinned its public half at enrollment and seal extract payloads
to it alone. Beside it, ``assembly-signing.key`` signs the extract requests — the only key
the nodes accept on them, and never on match requests; the assembler loads none of the hub's
own keys, so it can never be sent a token table. The assembler needs a run's clusters and
links (pseudonymous ids → person ids) and the payloads — never a token table: nothing in
this package imports the linkage engine or the node fetch of a run
(tests/hub/assembly/test_assembly_separation.py).
"""
