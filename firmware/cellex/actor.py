# cellex.actor: the Actor base class users subclass.
# MIT licence.


class Actor:
    """Base class for actors: override receive(msg), and on_restart() if it keeps state.

    The runtime sets `self.ref` (this actor's ActorRef) and `self.system` at
    spawn. An exception raised from receive() is caught by the runtime and
    handed to this actor's supervisor; the message that raised is not retried.
    """

    ref = None
    system = None

    def receive(self, msg):
        """Handle one message. Runs to completion; must not block."""

    def on_restart(self):
        """Reset state in place after a failure (the actor object is reused, not re-created)."""

    def on_stop(self):
        """Called once when the actor is stopped (by its supervisor or the root)."""
