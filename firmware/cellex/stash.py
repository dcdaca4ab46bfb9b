# cellex.stash: Stash, messages an actor sets aside and takes back later (QP defer/recall, Akka stash).
# MIT licence.
#
# An actor that cannot handle a message yet (it waits for a reply, a device
# is busy) defers it into its Stash, a ring of slots made with the actor,
# and recalls it when it can: the message goes back to the FRONT of the
# actor's mailbox, ahead of mail that came meanwhile, so the actor sees
# messages in the order they first arrived. defer() and recall() allocate
# nothing. A deferred request (cellex.ask.Call) whose asker timed out
# meanwhile is not recalled: it is an EXPIRED dead letter.
from cellex.actor_ref import STOPPED
from cellex.ask import ASKING, Call
from cellex.compat import micropython
from cellex.dead_letters import EXPIRED


class Stash:
    """`capacity` slots for deferred messages; make one per actor, at set-up.

    Read-only: `count` (messages set aside), `capacity`, `overflows`
    (defer() calls refused because the stash was full).
    """

    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("stash capacity must be >= 1, got %d" % capacity)
        self._msg = [None] * capacity  # type: list
        self._token = [0] * capacity  # a Call's token when it was deferred (0: not a Call)
        self._head = 0
        self.count = 0
        self.capacity = capacity
        self.overflows = 0

    @micropython.native
    def defer(self, msg):
        """Set `msg` aside; False (counted in overflows) when the stash is full."""
        n = self.count
        cap = self.capacity
        if n == cap:
            self.overflows += 1
            return False
        i = self._head + n
        if i >= cap:
            i -= cap
        self._msg[i] = msg
        self._token[i] = msg.token if type(msg) is Call else 0
        self.count = n + 1
        return True

    @micropython.native
    def recall(self, ref):
        """Put the oldest deferred message back at the front of `ref`'s mailbox.

        `ref` is the owner's ActorRef (self.ref). True when one went back;
        False when none is left or the mailbox is full (it stays here).
        """
        self._purge(ref)
        if self.count == 0 or not ref._push_front(self._msg[self._head]):
            return False
        self._take(1)
        return True

    @micropython.native
    def recall_all(self, ref):
        """Put every deferred message back at the front of `ref`'s mailbox, in their order.

        Returns how many went back. When the mailbox has room for only some,
        the oldest go back and the rest stay here (the order is kept).
        """
        self._purge(ref)
        if ref.state == STOPPED:
            return 0
        n = ref.capacity - ref.pending
        if n > self.count:
            n = self.count
        # Each goes to the front, so the newest of the n goes first.
        msgs = self._msg
        cap = self.capacity
        j = n - 1
        while j >= 0:
            i = self._head + j
            if i >= cap:
                i -= cap
            ref._push_front(msgs[i])
            j -= 1
        self._take(n)
        return n

    @micropython.native
    def _purge(self, ref):
        # Drop the requests that timed out while set aside (EXPIRED dead
        # letters for `ref`), closing the gaps in order.
        msgs = self._msg
        tokens = self._token
        cap = self.capacity
        n = self.count
        r = self._head
        w = r
        live = 0
        for _ in range(n):
            msg = msgs[r]
            tok = tokens[r]
            if tok != 0 and (msg.token != tok or msg.state != ASKING):
                ref._letters.add(ref, msg, EXPIRED)
            else:
                msgs[w] = msg
                tokens[w] = tok
                live += 1
                w += 1
                if w == cap:
                    w = 0
            r += 1
            if r == cap:
                r = 0
        for _ in range(n - live):
            msgs[w] = None
            w += 1
            if w == cap:
                w = 0
        self.count = live

    @micropython.native
    def _take(self, n):
        # The oldest n went back to the mailbox.
        msgs = self._msg
        cap = self.capacity
        h = self._head
        for _ in range(n):
            msgs[h] = None
            h += 1
            if h == cap:
                h = 0
        self._head = h
        self.count -= n
