# cellex.actor: the Actor base class users subclass.
# MIT licence.
from cellex.supervision import EXIT


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
        """Reset state in place after a failure (the actor object is reused, not re-created).

        Raising here is a failure of this actor: its supervisor decides again
        (retried within the restart intensity, then escalated), and it is
        reported like any failure.
        """

    def on_stop(self):
        """Called once when the actor is stopped (by ref.stop(), its supervisor or the root)."""

    def on_group_restart(self, cause):
        """Called before a ONE_FOR_ALL / REST_FOR_ONE restart takes this actor down.

        `cause` is the ActorRef whose failure started it (a sibling). Every
        sibling in the group is told before any of them is restarted or
        stopped. Must not raise (counted in counters.hook_errors if it does).
        """

    def exit(self):
        """End this actor normally, from its own receive() (OTP's `{stop, normal, ...}`).

        Raises cellex.supervision.EXIT, which the runtime catches: do not
        catch it yourself. A TRANSIENT or TEMPORARY actor stops (watchers get
        Terminated with reason NORMAL); a PERMANENT one is restarted by its
        supervisor, as OTP does. To stop for good whatever the restart type,
        call self.ref.stop().
        """
        raise EXIT
