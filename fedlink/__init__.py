"""Fedlink's composition root: the ``fedlink`` command and the local demo federation."""
