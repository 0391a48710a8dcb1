"""Attacks of a curious hub on a project's token tables (GitHub issue 12).

The hub holds, for one project, every agency node's token table. :func:`run_privacy`
builds such a project from the synthetic state under random keys
(:mod:`fedlink.attack.federation`), plays the hub with public knowledge only
(:mod:`fedlink.attack.public`: the open construction, run under keys of the attacker's
own, and public frequency tables) and scores what it recovers against the truth
(:mod:`fedlink.attack.scoring`). ``docs/privacy-attacks.md`` describes each attack.
"""

from fedlink.attack.run import ATTACKS, attack_federation, run_privacy

__all__ = ["ATTACKS", "attack_federation", "run_privacy"]
