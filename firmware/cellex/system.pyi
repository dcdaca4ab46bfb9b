# Typed API of cellex.system (the implementation is system.py; a test keeps the two in step).
# The underscored members are the runtime's own (other runtime modules call them); listed so
# the firmware type-checks against this file too.
from typing import Any, Callable, Coroutine, Iterable

from cellex.actor import Actor
from cellex.actor_ref import ActorRef
from cellex.ask import Asks, Call
from cellex.config import ActorSystemConfig
from cellex.counters import SystemCounters
from cellex.dead_letters import DeadLetters
from cellex.deadlines import Deadlines
from cellex.post import PostRing
from cellex.pubsub import Topic
from cellex.root_escalation_sink import RootEscalationSink
from cellex.scheduler import ReadyQueueScheduler
from cellex.supervision import SupervisorStrategy
from cellex.timers import Timers
from cellex.watch import Terminated, Watches

class ActorSystem:
    """A tree of actors under /user, one scheduler, one root escalation sink (see system.py)."""

    config: ActorSystemConfig
    counters: SystemCounters
    dead_letters: DeadLetters
    root: RootEscalationSink
    deadlines: Deadlines
    timers: Timers
    asks: Asks
    posts: PostRing
    scheduler: ReadyQueueScheduler
    watches: Watches
    started: bool
    def __init__(self, config: ActorSystemConfig | None = ...) -> None: ...
    def spawn(
        self,
        actor: Actor,
        name: str,
        parent: ActorRef | None = ...,
        mailbox_capacity: int = ...,
        supervisor: SupervisorStrategy | None = ...,
        directive: int | None = ...,
        component: str = ...,
        endpoint: str = ...,
        transport: str = ...,
        tags: Iterable[tuple[str, str]] = ...,
        dynamic: bool = ...,
        restart: int = ...,
    ) -> ActorRef:
        """Create an actor and return its ActorRef. Allocates: call before start() (or dynamic=True)."""
    def topic(self, name: str, max_subscribers: int) -> Topic: ...
    def start(self) -> None:
        """Finish set-up; after this nothing on the message or failure path allocates."""
    def actors(self) -> list[ActorRef]: ...
    def lookup(self, path: str) -> ActorRef | None: ...
    def children(self, parent: ActorRef | None) -> list[ActorRef]: ...
    def stop_actor(self, ref: ActorRef) -> None: ...
    def watch(self, watcher: ActorRef, target: ActorRef) -> Terminated: ...
    def unwatch(self, watcher: ActorRef, target: ActorRef) -> bool: ...
    def send_after(self, ref: ActorRef, msg: Any, ms: int) -> int:
        """Tell `msg` to `ref` once, `ms` from now; returns a handle for cancel()."""
    def send_every(self, ref: ActorRef, msg: Any, period_ms: int, first_ms: int = ...) -> int:
        """Tell `msg` to `ref` every `period_ms`; returns a handle for cancel()."""
    def cancel(self, handle: int) -> bool: ...
    def cancel_timers(self, ref: ActorRef) -> int: ...
    def run_forever(self, idle: Callable[[int], object] | None = ...) -> None:
        """Dispatch until stop(), sleeping in idle(ms) until the next deadline or interrupt."""
    def stop(self) -> None: ...
    def sleep_ms(self) -> int: ...
    def run_async(self) -> Coroutine[Any, Any, None]: ...
    # Bound at construction (binding allocates): callable from interrupts and hot loops.
    def post(self, ref: ActorRef, msg: Any) -> bool:
        """Queue `msg` for `ref`, safe from a hard interrupt; False (counted) when the ring is full."""
    def ask(self, target: ActorRef, call: Call, body: Any, timeout_ms: int) -> int:
        """Send `call` to `target` carrying `body`; returns the request's token (see cellex.ask)."""
    def reply(self, token: int, value: Any) -> bool: ...
    def run(self, budget: int = ...) -> int:
        """Dispatch up to `budget` messages (all there are when budget < 0); returns how many."""
    def run_once(self) -> bool: ...
    def run_until_idle(self, budget: int = ...) -> int: ...
    def _stop(self, target: ActorRef, reason: Any = ...) -> None: ...
