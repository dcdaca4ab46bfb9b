# cellex.scheduler: ReadyQueueScheduler, run-to-completion dispatch of actors that have mail.
# MIT licence.
#
# The ready queue is a ring of ActorRefs made once (capacity = max actors);
# an actor is in it at most once (ActorRef._queued), so it cannot overflow.
# Each turn takes ONE message from the actor at the head and, if the actor
# still has mail, puts it at the back: round-robin between ready actors.
# The dispatch loop allocates nothing.
from cellex.actor_ref import RUNNING
from cellex.compat import clear_traceback


class ReadyQueueScheduler:
    """Dispatches messages, one per turn, to actors in ready-queue order.

    on_failure(ref, error) is called when receive() raises; wake() is called
    before each turn while `paused` is non-zero (actors waiting out a restart
    backoff), to resume those whose delay has passed. `ready` (read-only) is
    how many actors are waiting for a turn.
    """

    # No properties here either: see actor_ref.py (a property slows every store).

    def __init__(self, capacity, counters, on_failure, wake):
        self._queue = [None] * capacity  # type: list
        self._capacity = capacity
        self._head = 0
        self.ready = 0
        self._counters = counters
        self._on_failure = on_failure
        self._wake = wake
        self.paused = 0

    def enqueue(self, ref):
        """Put a ready actor at the back of the queue (the caller set ref._queued)."""
        n = self.ready
        i = self._head + n
        if i >= self._capacity:
            i -= self._capacity
        self._queue[i] = ref
        self.ready = n + 1

    def run(self, budget=-1):
        """Dispatch up to `budget` messages (all there are when budget < 0).

        Returns how many were dispatched. Stops early when no actor is ready
        (actors paused by a backoff are not ready until their delay passes).
        """
        queue = self._queue
        cap = self._capacity
        on_failure = self._on_failure
        done = 0
        while done != budget:
            if self.paused:
                self._wake()
            n = self.ready
            if n == 0:
                break
            h = self._head
            ref = queue[h]
            queue[h] = None
            h += 1
            if h == cap:
                h = 0
            self._head = h
            self.ready = n - 1
            if ref.state != RUNNING:
                ref._queued = False
                continue  # paused or stopped after it was queued
            # ref._queued stays True during its turn: a tell() to it from its
            # own receive() (or anyone's) does not queue it a second time.
            mail = ref._mail
            mcap = ref.capacity
            turn = 0
            # One message per turn. While this actor is the only one ready it
            # would go to the back of an empty queue and straight out again,
            # so it keeps the turn without the queue round trip (same order).
            while True:
                mh = ref._head
                msg = mail[mh]
                mail[mh] = None
                mh += 1
                if mh == mcap:
                    mh = 0
                ref._head = mh
                ref.pending -= 1
                turn += 1
                try:
                    ref.actor.receive(msg)
                except Exception as e:  # noqa: BLE001 - every failure goes to the supervisor
                    on_failure(ref, e)
                    # Handled: a preallocated exception raised again and again
                    # would otherwise grow its traceback on every raise.
                    clear_traceback(e)
                    if ref.state != RUNNING:
                        break
                if not ref.pending or self.ready or done + turn == budget or self.paused:
                    break
            done += turn
            ref.delivered += turn
            if ref.pending and ref.state == RUNNING:
                # Back of the queue, still marked queued: enqueue() inlined, as a
                # call here costs ~80 ns per message when actors take turns.
                n = self.ready
                i = self._head + n
                if i >= cap:
                    i -= cap
                queue[i] = ref
                self.ready = n + 1
            else:
                ref._queued = False
        self._counters.delivered += done
        return done

    def run_once(self):
        """Dispatch one message; True if there was one."""
        return self.run(1) == 1

    # run() with no budget already dispatches until no actor is ready; the
    # alias saves a call layer per main-loop turn.
    run_until_idle = run
