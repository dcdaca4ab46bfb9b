# Typed API of cellex.actor (the implementation is actor.py; a test keeps the two in step).
from typing import Any, NoReturn

from cellex.actor_ref import ActorRef
from cellex.system import ActorSystem

class Actor:
    """Base class for actors: override receive(msg), and on_restart() if it keeps state.

    The runtime sets `ref` and `system` at spawn."""

    ref: ActorRef
    system: ActorSystem
    def receive(self, msg: Any) -> None:
        """Handle one message. Runs to completion; must not block."""
    def on_restart(self) -> None:
        """Reset state in place after a failure (the actor object is reused)."""
    def on_stop(self) -> None:
        """Called once when the actor is stopped."""
    def on_group_restart(self, cause: ActorRef) -> None:
        """Called before a ONE_FOR_ALL / REST_FOR_ONE restart takes this actor down."""
    def exit(self) -> NoReturn:
        """End this actor normally, from its own receive()."""
