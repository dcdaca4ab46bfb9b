# cellex.post: PostRing, messages posted from interrupt handlers, drained by the scheduler.
# MIT licence.
#
# ActorRef.tell() is not safe from a hard interrupt handler: the handler can
# preempt the scheduler in the middle of a mailbox update. ActorSystem.post()
# is: it puts (ref, msg) in this ring of preallocated slots inside a
# critical section (machine.disable_irq() / enable_irq()), and the scheduler
# moves the messages into the mailboxes (tell) whenever its ready queue is
# empty (at the end of every run() without a budget; a run() that starts
# idle takes them first). A full ring drops the message and
# counts it (posts_dropped); a post wakes the loop that sleeps in
# run_forever() (the interrupt itself ends the idle hook's wait) or in
# run_async() (waker.set(), an asyncio.ThreadSafeFlag).
#
# Safe from: a hard IRQ handler, a micropython.schedule() callback, an
# asyncio task, a thread. post() allocates nothing; the message must exist
# already (a small int, a preallocated object): a hard handler cannot
# allocate one. drain() allocates nothing.
from cellex.compat import micropython


class _NoWaker:
    def set(self):
        pass


NO_WAKER = _NoWaker()


class PostRing:
    """`capacity` (ref, msg) slots. Read-only: `count` (waiting), `high_water`.

    disable_irq() -> state and enable_irq(state) guard every update (the
    machine module's on a board; tests pass fakes).
    """

    def __init__(self, capacity, counters, disable_irq, enable_irq):
        if capacity < 1:
            raise ValueError("post_slots must be >= 1, got %d" % capacity)
        self._refs = [None] * capacity  # type: list
        self._msgs = [None] * capacity
        self._cap = capacity
        self._head = 0
        self.count = 0
        self.high_water = 0
        self._counters = counters
        self._disable = disable_irq
        self._enable = enable_irq
        self.waker = NO_WAKER  # run_async() puts its ThreadSafeFlag here

    @micropython.native
    def post(self, ref, msg):
        """Queue `msg` for `ref`; False (and counted in posts_dropped) when the ring is full."""
        st = self._disable()
        n = self.count
        cap = self._cap
        if n == cap:
            self._counters.posts_dropped += 1
            self._enable(st)
            return False
        i = self._head + n
        if i >= cap:
            i -= cap
        self._refs[i] = ref
        self._msgs[i] = msg
        n += 1
        self.count = n
        if n > self.high_water:
            self.high_water = n
        self._counters.posts += 1
        self._enable(st)
        self.waker.set()
        return True

    @micropython.native
    def drain(self):
        """Tell each waiting message to its actor, oldest first; returns how many.

        Takes at most `capacity` messages per call, so a handler posting
        without pause cannot keep the scheduler here.
        """
        refs = self._refs
        msgs = self._msgs
        cap = self._cap
        k = 0
        while k < cap:
            st = self._disable()
            n = self.count
            if n == 0:
                self._enable(st)
                break
            h = self._head
            ref = refs[h]
            msg = msgs[h]
            refs[h] = None
            msgs[h] = None
            h += 1
            if h == cap:
                h = 0
            self._head = h
            self.count = n - 1
            self._enable(st)
            ref.tell(msg)
            k += 1
        return k
