# Typed API of cellex.watch (the implementation is watch.py; a test keeps the two in step).
from cellex.actor_ref import ActorRef

class Terminated:
    """Told to a watcher when the actor it watches stops.

    reason: cellex.supervision.NORMAL, SHUTDOWN, or the exception that stopped it."""

    ref: ActorRef
    reason: str | BaseException | None
    def __init__(self, ref: ActorRef) -> None: ...

class Watches:
    """The system's watch slots. Read-only: `capacity`, `active`."""

    capacity: int
    active: int
    def __init__(self, capacity: int) -> None: ...
    def watch(self, watcher: ActorRef, target: ActorRef) -> Terminated: ...
    def unwatch(self, watcher: ActorRef, target: ActorRef) -> bool: ...
    def stopped(self, ref: ActorRef, reason: str | BaseException | None) -> None: ...
