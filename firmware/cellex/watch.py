# cellex.watch: death watch, Terminated messages told to watchers when an actor stops.
# MIT licence.
#
# A fixed number of watch slots made at system construction (ActorSystemConfig
# watch_slots). watch() makes the Terminated message once (it allocates one
# small object: call it at set-up or when you spawn); the stop that fills in
# its reason and tells it to the watcher allocates nothing. A watch ends when
# it is delivered, unwatched, or its watcher stops.
from cellex.compat import micropython


class Terminated:
    """Told to a watcher when the actor it watches stops.

    ref     the ActorRef that stopped
    reason  why: cellex.supervision.NORMAL (ref.stop(), Actor.exit()),
            SHUTDOWN (an ancestor stopped, or a group restart took a
            TEMPORARY actor down), or the exception of the failure that
            stopped it (a STOP decision, the root, an intensity exceeded)
    """

    def __init__(self, ref):
        self.ref = ref
        self.reason = None

    def __repr__(self):
        return "<Terminated " + str(self.ref.path) + " " + repr(self.reason) + ">"


class Watches:
    """`capacity` watch slots. Read-only: `active` (watches in place)."""

    def __init__(self, capacity):
        self._watcher = [None] * capacity  # type: list
        self._msg = [None] * capacity  # type: list
        self.capacity = capacity
        self.active = 0

    def watch(self, watcher, target):
        """Watch `target` from `watcher`; returns the Terminated it will get. Allocates one object.

        Raises RuntimeError when every slot is in use (ActorSystemConfig
        watch_slots). Watching an actor that has already stopped delivers at
        once (reason NORMAL unless known).
        """
        i = 0
        cap = self.capacity
        while i < cap and self._msg[i] is not None:
            i += 1
        if i == cap:
            raise RuntimeError("cellex: every watch slot is in use (ActorSystemConfig watch_slots=%d)" % cap)
        msg = Terminated(target)
        self._watcher[i] = watcher
        self._msg[i] = msg
        self.active += 1
        return msg

    def unwatch(self, watcher, target):
        """Stop watching; True if there was such a watch (its Terminated will not come)."""
        for i in range(self.capacity):
            msg = self._msg[i]
            if msg is not None and msg.ref is target and self._watcher[i] is watcher:
                self._free(i)
                return True
        return False

    @micropython.native
    def stopped(self, ref, reason):
        """`ref` stopped: tell its watchers, drop the watches `ref` held. Allocates nothing."""
        watchers = self._watcher
        msgs = self._msg
        for i in range(self.capacity):
            msg = msgs[i]
            if msg is None:
                continue
            if msg.ref is ref:
                watcher = watchers[i]
                self._free(i)
                msg.reason = reason
                watcher.tell(msg)
            elif watchers[i] is ref:
                self._free(i)

    def _free(self, i):
        self._watcher[i] = None
        self._msg[i] = None
        self.active -= 1
