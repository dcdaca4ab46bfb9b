# cellex.dead_letters: DeadLetters, every message that reached no one, counted and watchable.
# MIT licence.
#
# Every dead letter in the system comes through add(): a tell() refused (a
# full mailbox, a stopped actor), mail left in an actor when it stops, a
# reply that came after its request timed out, a request whose asker gave up
# before it was handled. Counting is exact and allocates nothing. A hook
# (watch()) sees each one, unless more than `burst` arrive within `per_ms`:
# those are counted in `unwatched` and the hook is not called, so a storm of
# dead letters costs a few increments each and cannot starve the scheduler.
# Not here: a post() refused by a full post ring (counters.posts_dropped), as
# it happens inside an interrupt handler, where no hook may run; a posted
# message the mailbox then refuses is a dead letter like any tell().
from cellex.compat import clear_traceback, const, micropython, ticks_diff

# Why a message is a dead letter (the hook's `reason`)
MAILBOX_FULL = const(1)  # tell() to a full mailbox
ACTOR_STOPPED = const(2)  # tell() to a stopped actor, or mail waiting when it stopped
LATE_REPLY = const(3)  # a reply to a request that had timed out (cellex.ask)
EXPIRED = const(4)  # a request its asker stopped waiting for, taken back unhandled


class DeadLetters:
    """The system's dead letters (ActorSystem.dead_letters).

    Read-only counts: `count` (all), `mailbox_full`, `actor_stopped`,
    `late_replies`, `expired`; `watched` (hook calls made), `unwatched`
    (dead letters the rate limit, or a dead letter made inside the hook,
    kept from the hook), `hook_errors` (hook calls that raised).
    """

    def __init__(self, counters, clock):
        self._counters = counters
        self._clock = clock
        self.count = 0
        self.mailbox_full = 0
        self.actor_stopped = 0
        self.late_replies = 0
        self.expired = 0
        self.watched = 0
        self.unwatched = 0
        self.hook_errors = 0
        self._hook = None
        self._burst = 0
        self._per_ms = 1
        self._left = 0
        self._window = 0
        self._busy = False

    def watch(self, hook, burst=8, per_ms=1000):
        """Call hook(to, msg, reason) for each dead letter, at most `burst` times per `per_ms`.

        `to` is the ActorRef it was for (None for a late reply whose request
        slot has been reused since), `reason` MAILBOX_FULL / ACTOR_STOPPED /
        LATE_REPLY / EXPIRED. The hook runs where the dead letter happened
        (inside tell(), a stop, a timeout): keep it short; it may tell()
        (a dead letter it makes is counted, not watched) and must not
        allocate if the system must not. hook=None stops watching.
        """
        if burst < 1 or per_ms < 1:
            raise ValueError("burst and per_ms must be >= 1")
        self._hook = hook
        self._burst = burst
        self._per_ms = per_ms
        self._left = burst
        self._window = self._clock()

    @micropython.native
    def add(self, to, msg, reason):
        """Count one dead letter for `to` (an ActorRef or None) and show it to the hook."""
        self.count += 1
        self._counters.dead_letters += 1
        if to is not None:
            to.dead_letters += 1
        if reason == MAILBOX_FULL:
            self.mailbox_full += 1
        elif reason == ACTOR_STOPPED:
            self.actor_stopped += 1
        elif reason == LATE_REPLY:
            self.late_replies += 1
        else:
            self.expired += 1
        hook = self._hook
        if hook is None:
            return
        if self._busy:
            self.unwatched += 1
            return
        now = self._clock()
        if ticks_diff(now, self._window) >= self._per_ms:
            self._window = now
            self._left = self._burst
        if self._left == 0:
            self.unwatched += 1
            return
        self._left -= 1
        self.watched += 1
        self._busy = True
        try:
            hook(to, msg, reason)
        except Exception as e:  # noqa: BLE001 - a watcher never breaks delivery
            clear_traceback(e)
            self.hook_errors += 1
        self._busy = False
