# Typed API of cellex.timers (the implementation is timers.py; a test keeps the two in step).
from typing import Any, Final

from cellex.actor_ref import ActorRef
from cellex.counters import SystemCounters
from cellex.deadlines import Deadlines

MAX_TIMER_SLOTS: Final[int]
TIMERS_FULL: Final[RuntimeError]

class Timers:
    """The system's timer slots (system.timers); use ActorSystem.send_after / send_every / cancel."""

    capacity: int
    armed: int
    def __init__(
        self, capacity: int, deadlines: Deadlines, offset: int, counters: SystemCounters
    ) -> None: ...
    def arm(self, ref: ActorRef, msg: Any, at: int, period: int) -> int: ...
    def cancel(self, handle: int) -> bool: ...
    def cancel_for(self, ref: ActorRef) -> int: ...
    def is_armed(self, handle: int) -> bool: ...
    def fire(self, i: int, now: int) -> None: ...
