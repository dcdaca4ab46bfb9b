# Typed API of cellex.actor_ref (the implementation is actor_ref.py; a test keeps the two in step).
# The underscored fields are the runtime's own (the scheduler and the system read them); listed
# so the firmware type-checks against this file too.
from typing import Any, Callable, Final

from cellex.actor import Actor
from cellex.actor_path import ActorPath
from cellex.dead_letters import DeadLetters
from cellex.scheduler import ReadyQueueScheduler
from cellex.supervision import RestartHistory, SupervisorStrategy
from cellex.system import ActorSystem

RUNNING: Final[int]
PAUSED: Final[int]
STOPPED: Final[int]

class ActorRef:
    """A handle to a spawned actor: post messages with tell(). Every field is read-only."""

    id: int
    slot: int
    restart_type: int
    dynamic: bool
    path: ActorPath
    name: str
    parent: ActorRef | None
    actor: Actor
    state: int
    capacity: int
    pending: int
    delivered: int
    dead_letters: int
    failures: int
    restarts: int
    high_water: int
    strategy: SupervisorStrategy
    directive: int | None
    component: str
    endpoint: str
    transport: str
    tags: tuple[tuple[str, str], ...]
    _system: ActorSystem
    _receive: Callable[[Any], object]
    _mail: list[Any]
    _head: int
    _queued: bool
    _sched: ReadyQueueScheduler
    _letters: DeadLetters
    _history: RestartHistory
    _child_history: RestartHistory
    _first: ActorRef | None
    _last: ActorRef | None
    _prev: ActorRef | None
    _next: ActorRef | None
    # system: Any, as system.py passes itself (it is type-checked against these stubs, where
    # its own class and the stub's ActorSystem are two types).
    def __init__(
        self,
        system: Any,
        actor: Actor,
        actor_id: int,
        path: ActorPath,
        parent: ActorRef | None,
        capacity: int,
        meta: tuple[str, str, str],
        tags: tuple[tuple[str, str], ...],
        history: RestartHistory,
        directive: int | None,
        strategy: SupervisorStrategy,
        slot: int,
        restart_type: int,
        dynamic: bool,
        child_history: RestartHistory,
    ) -> None: ...
    def tell(self, msg: Any) -> bool:
        """Post `msg`; True when queued, False (counted) when it became a dead letter. Never blocks."""
    def stop(self) -> None:
        """Stop this actor and its descendants, for good, from anywhere."""
    def _drain(self) -> None: ...
    def _push_front(self, msg: Any) -> bool: ...
    def _withdraw(self, msg: Any) -> bool: ...
