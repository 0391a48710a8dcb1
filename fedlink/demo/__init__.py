"""The local demo federation behind ``fedlink demo`` (docs/demo.md).

``processes`` starts and stops real processes on loopback, ``steps``/``later``/``audit``
walk the VLDS flow as each party would, ``evaluation`` scores the linkage against the
synthetic truth, ``summary`` prints the result and ``runner`` ties them together.
"""
