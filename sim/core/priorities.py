"""SimPy's event priorities, as constants compiled code can inline.

Among events scheduled for the same moment, SimPy runs *urgent* ones (a
process starting, an interruption) before *normal* ones (a timeout, a process
ending), and otherwise keeps the order of scheduling. ``simpy.core`` defines
the two values; they are repeated here as literal ``Final`` constants so that,
compiled, the event queue uses them without a look-up in a module's globals on
every event. A test checks that they are SimPy's.
"""

from __future__ import annotations

from typing import Final

#: ``simpy.core.URGENT``
URGENT: Final = 0
#: ``simpy.core.NORMAL``
NORMAL: Final = 1
