# cellex.scheduler: ReadyQueueScheduler, run-to-completion dispatch of actors that have mail.
# MIT licence.
#
# The ready queue is a ring of ActorRefs made once (capacity = max actors);
# an actor is in it at most once (ActorRef._queued), so it cannot overflow.
# Each turn takes ONE message from the actor at the head and, if the actor
# still has mail, puts it at the back: round-robin between ready actors.
#
# The dispatch loop allocates nothing, gross: run() is native code, whose
# frame lives on the C stack (as bytecode its state is too big for the C
# stack, so every call took a 288-byte frame from the heap and gave it back).
from cellex.compat import clear_traceback, const, micropython, ticks_diff

_RUNNING = const(0)  # = actor_ref.RUNNING; const() only inlines within its own module
# The reset record's running word for "no actor" (cellex.reset_record.running_word(0));
# a plain global: native code must not hold a literal of 2**15 or more (see cellex.wire.U30).
_NO_ACTOR = 0xFFF000


def _unwatched():
    pass


class ReadyQueueScheduler:
    """Dispatches messages, one per turn, to actors in ready-queue order.

    on_failure(ref, error) is called when receive() raises an Exception.
    While any deadline is armed (timers, actors waiting out a restart
    backoff), the clock is read before each turn and wake(now) is called once
    the earliest has passed. Messages posted from interrupts (PostRing) are
    moved into their mailboxes whenever no actor is ready (so run() without
    a budget always takes them; one attribute read per run() call).
    `ready` (read-only) is how many actors are waiting for a turn.

    KeyboardInterrupt, SystemExit (any BaseException that is not an
    Exception) raised in receive() is not a failure: it propagates out of
    run(), after the scheduler is put back in order: the interrupted message
    counts as delivered, and the actor keeps its place (back of the queue if
    it has more mail), so the next run() carries on.
    """

    # No properties here either: see actor_ref.py (a property slows every store).

    def __init__(self, capacity, counters, on_failure, wake, deadlines, clock, posts):
        self._queue = [None] * capacity  # type: list
        self._capacity = capacity
        self._head = 0
        self.ready = 0
        self._counters = counters
        self._on_failure = on_failure
        self._wake = wake
        self._deadlines = deadlines
        self._clock = clock
        self._posts = posts
        # The watchdog (see watch()): only the watched run() reads these.
        self._feed = _unwatched
        self._slot = [0]  # where the running actor goes when not kept
        self._key = 0

    def watch(self, feed, slot=None, key=0):
        """Feed a watchdog while dispatching makes progress, and keep the running actor.

        feed()    called at each run() and before each message (e.g. a
                  machine.WDT's feed): an actor whose receive() never returns
                  stops the feeding, and the watchdog resets the board.
        slot, key where the actor in receive() is kept: before each message
                  `slot[key] = running word of its id` (a reset record's
                  running_slot(): cellex.reset_record), and the word for no
                  actor when run() returns (or raises). slot None: not kept.
        Set once, at start (ActorSystem.start does it for
        ActorSystemConfig.with_watchdog). Allocates at the call only (one
        bound method), nothing per run() or message.

        run() itself has no watchdog code, so an unwatched system pays
        nothing: this scheduler's `run` and `run_until_idle` become
        _run_watched(), the same dispatch with the watchdog's work in it.
        Whoever bound scheduler.run before this call binds it again
        (ActorSystem.start does).
        """
        if self._feed is not _unwatched:
            raise RuntimeError("cellex: the scheduler is watched already")
        self._feed = feed
        if slot is not None:  # else stored where nobody reads it (no test per message)
            self._slot = slot
            self._key = key
        self.run = self.run_until_idle = self._run_watched  # bound once

    def enqueue(self, ref):
        """Put a ready actor at the back of the queue (the caller set ref._queued)."""
        n = self.ready
        i = self._head + n
        if i >= self._capacity:
            i -= self._capacity
        self._queue[i] = ref
        self.ready = n + 1

    @micropython.native
    def run(self, budget=-1):
        """Dispatch up to `budget` messages (all there are when budget < 0).

        Returns how many were dispatched. Stops early when no actor is ready
        (actors paused by a backoff are not ready until their delay passes).
        """
        queue = self._queue
        cap = self._capacity
        deadlines = self._deadlines
        posts = self._posts
        done = 0
        while done != budget:
            if deadlines.armed:
                now = self._clock()
                if ticks_diff(now, deadlines.next) >= 0:
                    self._wake(now)
            n = self.ready
            if n == 0:
                if posts.count and posts.drain():
                    continue
                break
            h = self._head
            ref = queue[h]
            queue[h] = None
            h += 1
            if h == cap:
                h = 0
            self._head = h
            self.ready = n - 1
            if ref.state != _RUNNING:
                ref._queued = False
                continue  # paused or stopped after it was queued
            # ref._queued stays True during its turn: a tell() to it from its
            # own receive() (or anyone's) does not queue it a second time.
            mail = ref._mail
            mcap = ref.capacity
            receive = ref._receive
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
                    receive(msg)
                except Exception as e:  # noqa: BLE001 - every failure goes to the supervisor
                    try:
                        self._on_failure(ref, e)
                    except BaseException as e2:  # noqa: BLE001 - e.g. Ctrl-C in on_restart()
                        self._interrupted(ref, turn, done + turn)
                        raise e2  # native code has no bare `raise`
                    # Handled: a preallocated exception raised again and again
                    # would otherwise grow its traceback on every raise.
                    clear_traceback(e)
                    if ref.state != _RUNNING:
                        break
                except BaseException as e:  # noqa: BLE001 - Ctrl-C, SystemExit: see the class
                    self._interrupted(ref, turn, done + turn)
                    raise e
                if not ref.pending or self.ready or done + turn == budget or deadlines.armed:
                    break
            done += turn
            ref.delivered += turn
            if ref.pending and ref.state == _RUNNING:
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

    @micropython.native
    def _run_watched(self, budget=-1):
        # run() with the watchdog's work (see watch()); KEEP IN STEP WITH run(): the
        # same lines but for `feed`, `slot`, `key` and `word` (host_tests/portable/
        # test_scheduler.py checks that). A copy, measured on the emulated RP2040:
        # `if feed is not None` tests in run() cost every unwatched system 11 us per
        # one-message run() (164 vs 153 us) and 5 us per message in batches of 8; a
        # per-actor receive() wrapper instead costs a watched dispatch 22 us, these
        # lines 12 us (the feed and a store per message, a store per run()).
        feed = self._feed
        slot = self._slot
        key = self._key
        feed()
        try:
            queue = self._queue
            cap = self._capacity
            deadlines = self._deadlines
            posts = self._posts
            done = 0
            while done != budget:
                if deadlines.armed:
                    now = self._clock()
                    if ticks_diff(now, deadlines.next) >= 0:
                        self._wake(now)
                n = self.ready
                if n == 0:
                    if posts.count and posts.drain():
                        continue
                    break
                h = self._head
                ref = queue[h]
                queue[h] = None
                h += 1
                if h == cap:
                    h = 0
                self._head = h
                self.ready = n - 1
                if ref.state != _RUNNING:
                    ref._queued = False
                    continue  # paused or stopped after it was queued
                # ref._queued stays True during its turn: a tell() to it from its
                # own receive() (or anyone's) does not queue it a second time.
                mail = ref._mail
                mcap = ref.capacity
                receive = ref._receive
                i = ref.id & 0xFFF
                word = i | ((i ^ 0xFFF) << 12)  # cellex.reset_record.running_word(ref.id)
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
                    feed()  # the watchdog sees progress; the record, who runs now
                    slot[key] = word
                    try:
                        receive(msg)
                    except Exception as e:  # noqa: BLE001 - every failure goes to the supervisor
                        try:
                            self._on_failure(ref, e)
                        except BaseException as e2:  # noqa: BLE001 - e.g. Ctrl-C in on_restart()
                            self._interrupted(ref, turn, done + turn)
                            raise e2  # native code has no bare `raise`
                        # Handled: a preallocated exception raised again and again
                        # would otherwise grow its traceback on every raise.
                        clear_traceback(e)
                        if ref.state != _RUNNING:
                            break
                    except BaseException as e:  # noqa: BLE001 - Ctrl-C, SystemExit: see the class
                        self._interrupted(ref, turn, done + turn)
                        raise e
                    if not ref.pending or self.ready or done + turn == budget or deadlines.armed:
                        break
                done += turn
                ref.delivered += turn
                if ref.pending and ref.state == _RUNNING:
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
        finally:
            # Out of receive(): a hang from here on is not the last actor's.
            slot[key] = _NO_ACTOR
        return done

    def _interrupted(self, ref, turn, done):
        # A BaseException left receive() (or supervision): count what was
        # handed over and give the actor its place back before it propagates.
        ref.delivered += turn
        self._counters.delivered += done
        if ref.pending and ref.state == _RUNNING:
            self.enqueue(ref)
        else:
            ref._queued = False

    def run_once(self):
        """Dispatch one message; True if there was one."""
        return self.run(1) == 1

    # run() with no budget already dispatches until no actor is ready; the
    # alias saves a call layer per main-loop turn.
    run_until_idle = run
