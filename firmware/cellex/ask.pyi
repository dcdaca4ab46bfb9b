# Typed API of cellex.ask (the implementation is ask.py; a test keeps the two in step).
from collections.abc import Callable
from typing import Any, Final

from cellex.actor import Actor
from cellex.actor_ref import ActorRef
from cellex.counters import SystemCounters
from cellex.dead_letters import DeadLetters
from cellex.deadlines import Deadlines

IDLE: Final[int]
ASKING: Final[int]
REPLIED: Final[int]
TIMED_OUT: Final[int]
MAX_ASK_SLOTS: Final[int]
ASKS_FULL: Final[RuntimeError]
CALL_BUSY: Final[ValueError]

class Call:
    """One request/reply exchange, owned by the asking actor: `self.call = Call(self)`.

    The target gets it as its message (body, sender, token) and answers with
    reply(); the owner gets it back as a message, REPLIED (value) or TIMED_OUT."""

    owner: Actor
    state: int
    token: int
    body: Any
    value: Any
    sender: ActorRef | None
    def __init__(self, owner: Actor) -> None: ...
    def reply(self, value: Any) -> bool: ...

class Asks:
    """The system's request slots (system.asks); use ActorSystem.ask / reply."""

    capacity: int
    in_flight: int
    def __init__(
        self,
        capacity: int,
        deadlines: Deadlines,
        slot: int,
        counters: SystemCounters,
        letters: DeadLetters,
        clock: Callable[[], int],
    ) -> None: ...
    def ask(self, target: ActorRef, call: Call, body: Any, timeout_ms: int) -> int: ...
    def reply(self, token: int, value: Any) -> bool: ...
    def wake(self, now: int) -> None: ...
    def is_in_flight(self, token: int) -> bool: ...
