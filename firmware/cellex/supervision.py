# cellex.supervision: supervisor directives, scopes and the restart-intensity / backoff strategy.
# MIT licence.
from cellex.compat import micropython, ticks_diff
from cellex.errors import preallocated

# Directives: what a supervisor does with a failed child.
RESUME = 0  # keep the actor and its state; the failing message is dropped
RESTART = 1  # on_restart() in place (the scope decides which siblings too)
STOP = 2  # stop the actor and its descendants; their mail becomes dead letters
ESCALATE = 3  # fail the supervisor itself: the decision moves one hop up

# Scopes (Erlang/OTP): which children a RESTART covers.
ONE_FOR_ONE = 0  # the failed child only
ONE_FOR_ALL = 1  # every child of the same supervisor
REST_FOR_ONE = 2  # the failed child and the siblings spawned after it

# Decisions reported for a supervised failure (FailureInfo.decision): the
# directive applied, with ESCALATE for a failure that reached the root. The
# same numbers on the wire (supervision frames, docs/wire-format.md §12).
DECISION_NAMES = ("resumed", "restarted", "stopped", "escalated")

# Restart types per child (OTP child spec `restart`), given at spawn.
PERMANENT = 0  # restarted after a failure, after its own normal exit (Actor.exit()), and with its group
TRANSIENT = 1  # restarted after a failure and with its group; a normal exit ends it
TEMPORARY = 2  # never restarted: a failure it would be restarted for stops it, and a
#                sibling's group restart stops it too (OTP removes it)
RESTART_TYPE_NAMES = ("PERMANENT", "TRANSIENT", "TEMPORARY")

# Restart-intensity counting (SupervisorStrategy(intensity=...)).
PER_SUPERVISOR = 0  # OTP: the restarts the supervisor performs, over all its children
PER_CHILD = 1  # each child on its own (cellex before issue 13; Akka's maxNrOfRetries)

# Reasons a Terminated message carries besides the exception of a failure.
NORMAL = "normal"  # stopped with ActorRef.stop(), or ended with Actor.exit()
SHUTDOWN = "shutdown"  # stopped because an ancestor stopped, or a group restart took it down


class Exit(Exception):
    """Raised by Actor.exit(): the actor ends normally (not a failure)."""


# Made once and pinned: raising it again and again allocates nothing.
EXIT = preallocated(Exit("normal exit"))


def check_restart_type(restart):
    """Raise ValueError unless `restart` is PERMANENT, TRANSIENT or TEMPORARY."""
    if restart not in (PERMANENT, TRANSIENT, TEMPORARY):
        raise ValueError("bad restart type %r: use PERMANENT, TRANSIENT or TEMPORARY" % (restart,))


# Backoff doubling stops here, so delays never become big ints.
_MAX_BACKOFF_SHIFT = 16


def check_directive(directive):
    """Raise ValueError unless `directive` is RESUME, RESTART, STOP or ESCALATE."""
    if directive not in (RESUME, RESTART, STOP, ESCALATE):
        raise ValueError("bad directive %r: use RESUME, RESTART, STOP or ESCALATE" % (directive,))


class SupervisorStrategy:
    """How a supervisor treats its children's failures.

    directive     RESUME / RESTART / STOP / ESCALATE for every failure, unless
    decider       a function(error) -> directive is given (called per failure;
                  make it once, at set-up; if it raises, the failure escalates)
    scope         ONE_FOR_ONE / ONE_FOR_ALL / REST_FOR_ONE for RESTART
    max_restarts, within_ms
                  restart intensity (OTP): at most max_restarts restarts
                  performed by this supervisor, over all its children, within
                  within_ms; one more and the supervisor itself fails (the
                  failure escalates) and the child that exceeded it does not
                  carry on (OTP's default: 1 in 5000 ms); max_restarts=0
                  never restarts. A group restart counts once.
    intensity     PER_SUPERVISOR (default, OTP) or PER_CHILD: count each
                  child's restarts on its own (Akka's maxNrOfRetries)
    backoff_min_ms, backoff_max_ms
                  optional restart backoff (Akka): the restarted actor stays
                  paused, keeping its mail, for min * 2**n ms (capped at max),
                  n counting restarts closer together than within_ms
    """

    def __init__(
        self,
        directive=RESTART,
        scope=ONE_FOR_ONE,
        max_restarts=1,
        within_ms=5000,
        backoff_min_ms=0,
        backoff_max_ms=0,
        decider=None,
        intensity=PER_SUPERVISOR,
    ):
        check_directive(directive)
        if intensity not in (PER_SUPERVISOR, PER_CHILD):
            raise ValueError("bad intensity %r: use PER_SUPERVISOR or PER_CHILD" % (intensity,))
        if scope not in (ONE_FOR_ONE, ONE_FOR_ALL, REST_FOR_ONE):
            raise ValueError("bad scope %r: use ONE_FOR_ONE, ONE_FOR_ALL or REST_FOR_ONE" % (scope,))
        if max_restarts < 0 or within_ms <= 0:
            raise ValueError("restart intensity needs max_restarts >= 0 and within_ms > 0")
        if backoff_min_ms < 0 or backoff_max_ms < backoff_min_ms:
            raise ValueError("backoff needs 0 <= backoff_min_ms <= backoff_max_ms")
        if decider is not None and not callable(decider):
            raise ValueError("decider must be a function(error) -> directive")
        self.directive = directive
        self.scope = scope
        self.max_restarts = max_restarts
        self.within_ms = within_ms
        self.backoff_min_ms = backoff_min_ms
        self.backoff_max_ms = backoff_max_ms
        self.decider = decider
        self.intensity = intensity
        # A failure under this strategy takes the short path (escalation.py):
        # a plain RESTART of the failed child alone, no backoff, counted per
        # supervisor. Strategies are not changed after they are made.
        self._plain = (
            decider is None and directive == RESTART and scope == ONE_FOR_ONE
            and backoff_min_ms == 0 and intensity == PER_SUPERVISOR
        )  # fmt: skip

    def decide(self, error):
        """The directive for `error` (the decider's answer, or the fixed directive)."""
        decider = self.decider
        if decider is None:
            return self.directive
        try:
            d = decider(error)
        except Exception:  # noqa: BLE001 - a broken decider must not break supervision
            return ESCALATE
        if d == RESUME or d == RESTART or d == STOP:
            return d
        return ESCALATE

    def backoff_ms(self, shift):
        """Pause before the restart number `shift` (0-based) of a quick series."""
        lo = self.backoff_min_ms
        if lo == 0:
            return 0
        if shift > _MAX_BACKOFF_SHIFT:
            shift = _MAX_BACKOFF_SHIFT
        d = lo << shift
        hi = self.backoff_max_ms
        return hi if d > hi else d


class RestartHistory:
    """Recent restart times in a ring of max_restarts ticks, and the backoff series.

    A supervisor keeps one for the restarts it performs (PER_SUPERVISOR);
    each child keeps one for its backoff (and, PER_CHILD, its own count).
    Preallocated at spawn; allow(), backoff() and clear() neither allocate
    nor grow.
    """

    def __init__(self, max_restarts):
        self._times = [0] * max_restarts
        self._n = 0
        self._next = 0
        self.last = 0
        self.shift = 0
        self._restarted = False

    def clear(self):
        """Forget every restart (a restarted supervisor starts with a fresh count)."""
        self._n = 0
        self._next = 0
        self.shift = 0
        self._restarted = False

    @micropython.native
    def allow(self, now, strategy):
        """Record a restart at `now` if the limit allows it; False means escalate."""
        cap = strategy.max_restarts
        if cap == 0 or cap > len(self._times):
            return False
        times = self._times
        i = self._next
        if self._n == cap:
            # The oldest of the last `cap` restarts must have left the window.
            if ticks_diff(now, times[i]) < strategy.within_ms:
                return False
        else:
            self._n += 1
        times[i] = now
        i += 1
        self._next = 0 if i == cap else i
        return True

    @micropython.native
    def backoff(self, now, strategy):
        """Advance the backoff series for a restart at `now`; returns the shift to use."""
        # Backoff doubles while restarts come closer together than the window.
        if self._restarted and ticks_diff(now, self.last) < strategy.within_ms:
            self.shift += 1
        else:
            self.shift = 0
        self._restarted = True
        self.last = now
        return self.shift
