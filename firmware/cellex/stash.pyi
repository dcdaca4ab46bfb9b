# Typed API of cellex.stash (the implementation is stash.py; a test keeps the two in step).
from typing import Any

from cellex.actor_ref import ActorRef

class Stash:
    """Messages an actor sets aside and recalls to the front of its mailbox.

    Read-only: count, capacity, overflows."""

    count: int
    capacity: int
    overflows: int
    def __init__(self, capacity: int) -> None: ...
    def defer(self, msg: Any) -> bool: ...
    def recall(self, ref: ActorRef) -> bool: ...
    def recall_all(self, ref: ActorRef) -> int: ...
