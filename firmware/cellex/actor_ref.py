# cellex.actor_ref: ActorRef, the handle to an actor; it owns the actor's fixed-capacity mailbox.
# MIT licence.
#
# The mailbox is a ring over a list made at spawn: posting and taking a
# message only moves two ints and stores a reference, so tell() allocates
# nothing. The scheduler reads the ring fields directly (one hop less on the
# dispatch path); nothing else should.
#
# Speed: ActorRef has no property (or any other descriptor) on purpose. On
# MicroPython one property on a class makes EVERY attribute store on its
# instances look the name up in the class first (≈ 3x slower stores), and
# tell() and the scheduler store several fields per message. So `pending` is
# a plain attribute, read-only by convention like the counters.
from cellex.compat import const, micropython
from cellex.dead_letters import ACTOR_STOPPED, MAILBOX_FULL
from cellex.supervision import NORMAL

# Actor states (ActorRef.state)
RUNNING = const(0)
PAUSED = const(1)  # waiting out a restart backoff; keeps its mail
STOPPED = const(2)


class ActorRef:
    """A handle to a spawned actor: post messages with tell().

    Read-only attributes: `id` (int, unique in the system), `path`
    (ActorPath), `name`, `parent` (ActorRef or None for top-level actors),
    `actor`, `state` (RUNNING / PAUSED / STOPPED), `capacity`, `pending`
    (messages waiting in the mailbox), and counters:
    `delivered` (added up at the end of each of the actor's turns),
    `dead_letters` (messages for it that reached no one: see
    cellex.dead_letters), `failures`, `restarts`, `high_water` (the
    most messages ever waiting at once; capacity - high_water is the margin
    never used, QP's low-water mark of free slots); `restart_type`
    (PERMANENT / TRANSIENT / TEMPORARY), `dynamic` (its name and slot are
    freed when it stops), `slot` (its place in the system, reused after a
    dynamic actor is freed; `id` is never reused).
    """

    def __init__(
        self, system, actor, actor_id, path, parent, capacity, meta, tags, history, directive, strategy,
        slot, restart_type, dynamic, child_history,
    ):  # fmt: skip
        self.id = actor_id
        self.slot = slot
        self.restart_type = restart_type
        self.dynamic = dynamic
        self._system = system
        self.path = path
        self.name = path.segments[-1]
        self.parent = parent
        self.actor = actor
        # bound once (binding allocates): the scheduler calls it without looking
        # `receive` up per message; an actor that reassigns self.receive is not seen
        self._receive = actor.receive
        self.state = RUNNING
        self.capacity = capacity
        # mailbox ring
        self._mail = [None] * capacity
        self._head = 0
        self.pending = 0  # messages waiting in the mailbox (read-only)
        self._queued = False
        self._sched = system.scheduler  # tell() queues the actor itself (ReadyQueueScheduler.enqueue inlined)
        self._letters = system.dead_letters
        # counters
        self.delivered = 0
        self.dead_letters = 0
        self.failures = 0
        self.restarts = 0
        self.high_water = 0
        # supervision: how this actor supervises its children, and its own
        # restart record as a child of its parent
        self.strategy = strategy
        self.directive = directive
        self._history = history  # its backoff series (and count, PER_CHILD)
        self._child_history = child_history  # restarts it performs (PER_SUPERVISOR)
        # the tree, linked (unlinking a freed actor allocates nothing):
        # first / last child, previous / next sibling, in spawn order
        self._first = None  # type: ActorRef | None
        self._last = None  # type: ActorRef | None
        self._prev = None  # type: ActorRef | None
        self._next = None  # type: ActorRef | None
        # telemetry metadata, held by reference
        self.component, self.endpoint, self.transport = meta
        self.tags = tags

    @micropython.native
    def tell(self, msg):
        """Post `msg`; True when queued, False when it became a dead letter.

        False (and counted in dead_letters) when the mailbox is full or the
        actor is stopped. Never blocks, never raises, never allocates.
        Safe from a micropython.schedule() callback (soft interrupt). Not safe
        from a hard interrupt handler, which can preempt the scheduler in the
        middle of a mailbox update: use ActorSystem.post(ref, msg) there.
        """
        n = self.pending
        cap = self.capacity
        if n == cap or self.state == STOPPED:
            self._refused(msg)
            return False
        i = self._head + n
        if i >= cap:
            i -= cap
        self._mail[i] = msg
        n += 1
        self.pending = n
        if n > self.high_water:
            self.high_water = n
        if not self._queued and self.state == RUNNING:
            self._queued = True
            # ReadyQueueScheduler.enqueue(self), inlined: a call costs more than its body
            s = self._sched
            n = s.ready
            i = s._head + n
            cap = s._capacity
            if i >= cap:
                i -= cap
            s._queue[i] = self
            s.ready = n + 1
        return True

    @micropython.native
    def _refused(self, msg):
        # tell()'s dead letter, out of its way: a second test there made every
        # message 5 % slower on the RP2040 (75.0 against 71.6 us in batches of 8).
        self._letters.add(self, msg, MAILBOX_FULL if self.pending == self.capacity else ACTOR_STOPPED)

    def stop(self):
        """Stop this actor and its descendants, for good, from anywhere (its own receive() too).

        OTP's terminate_child / Akka's context.stop: its supervisor does not
        restart it whatever its restart type. on_stop() runs children first,
        waiting mail becomes dead letters, timers are cancelled, watchers get
        Terminated (reason NORMAL; descendants SHUTDOWN). A dynamic actor's
        name and slot are freed. Allocates nothing; no-op if already stopped.
        """
        self._system._stop(self, NORMAL)

    @micropython.native
    def _drain(self):
        # Stopping: waiting mail becomes dead letters, oldest first.
        mail = self._mail
        cap = self.capacity
        i = self._head
        letters = self._letters
        for _ in range(self.pending):
            msg = mail[i]
            mail[i] = None
            letters.add(self, msg, ACTOR_STOPPED)
            i += 1
            if i == cap:
                i = 0
        self._head = 0
        self.pending = 0

    @micropython.native
    def _push_front(self, msg):
        # Put `msg` ahead of the waiting mail (cellex.stash recall); False when
        # the mailbox is full or the actor stopped (the caller keeps it).
        n = self.pending
        cap = self.capacity
        if n == cap or self.state == STOPPED:
            return False
        h = self._head - 1
        if h < 0:
            h = cap - 1
        self._mail[h] = msg
        self._head = h
        n += 1
        self.pending = n
        if n > self.high_water:
            self.high_water = n
        if not self._queued and self.state == RUNNING:
            self._queued = True
            self._sched.enqueue(self)
        return True

    @micropython.native
    def _withdraw(self, msg):
        # Take `msg` (by identity) back out of the mailbox, keeping the order of
        # the rest (cellex.ask: a request whose asker timed out). True if found.
        # Runs between turns only (a timeout fires there), so when the mailbox
        # empties the actor is waiting in the ready queue, not in a turn: it
        # leaves the queue too (the scheduler expects mail from a queued actor).
        n = self.pending
        if not _ring_remove(self._mail, self._head, n, msg):
            return False
        self.pending = n - 1
        if n == 1 and self._queued:
            s = self._sched
            if _ring_remove(s._queue, s._head, s.ready, self):
                s.ready -= 1
            self._queued = False
        return True

    def __repr__(self):
        return "<ActorRef " + str(self.path) + ">"


@micropython.native
def _ring_remove(ring, head, n, item):
    # Remove `item` (by identity) from the n entries of `ring` from `head`
    # (wrapping at len(ring)), the later ones moving up; True if it was there.
    cap = len(ring)
    i = head
    j = 0
    while j < n and ring[i] is not item:
        i += 1
        if i == cap:
            i = 0
        j += 1
    if j == n:
        return False
    while j < n - 1:
        k = i + 1
        if k == cap:
            k = 0
        ring[i] = ring[k]
        i = k
        j += 1
    ring[i] = None
    return True
