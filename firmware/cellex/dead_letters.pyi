# Typed API of cellex.dead_letters (the implementation is dead_letters.py; a test keeps the two in step).
from collections.abc import Callable
from typing import Any, Final

from cellex.actor_ref import ActorRef
from cellex.counters import SystemCounters

MAILBOX_FULL: Final[int]
ACTOR_STOPPED: Final[int]
LATE_REPLY: Final[int]
EXPIRED: Final[int]

class DeadLetters:
    """Every dead letter of the system (system.dead_letters), counted by reason, watchable.

    Read-only: count, mailbox_full, actor_stopped, late_replies, expired,
    watched, unwatched, hook_errors."""

    count: int
    mailbox_full: int
    actor_stopped: int
    late_replies: int
    expired: int
    watched: int
    unwatched: int
    hook_errors: int
    def __init__(self, counters: SystemCounters, clock: Callable[[], int]) -> None: ...
    def watch(
        self, hook: Callable[[ActorRef | None, Any, int], object] | None, burst: int = 8, per_ms: int = 1000
    ) -> None: ...
    def add(self, to: ActorRef | None, msg: Any, reason: int) -> None: ...
