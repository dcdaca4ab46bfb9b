# cellex.supervision: supervisor directives, scopes and the restart-intensity / backoff strategy.
# MIT licence.
from cellex.compat import micropython, ticks_diff

# Directives: what a supervisor does with a failed child.
RESUME = 0  # keep the actor and its state; the failing message is dropped
RESTART = 1  # on_restart() in place (the scope decides which siblings too)
STOP = 2  # stop the actor and its descendants; their mail becomes dead letters
ESCALATE = 3  # fail the supervisor itself: the decision moves one hop up

# Scopes (Erlang/OTP): which children a RESTART covers.
ONE_FOR_ONE = 0  # the failed child only
ONE_FOR_ALL = 1  # every child of the same supervisor
REST_FOR_ONE = 2  # the failed child and the siblings spawned after it

DIRECTIVE_NAMES = ("RESUME", "RESTART", "STOP", "ESCALATE")
SCOPE_NAMES = ("ONE_FOR_ONE", "ONE_FOR_ALL", "REST_FOR_ONE")

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
                  restart-intensity limit per child: at most max_restarts
                  restarts within within_ms, else the failure escalates
                  (OTP's default: 1 in 5000 ms); max_restarts=0 never restarts
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
    ):
        check_directive(directive)
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
    """The recent restart times of one child, in a ring of max_restarts ticks.

    Preallocated at spawn from the parent's strategy; allow() neither
    allocates nor grows.
    """

    def __init__(self, max_restarts):
        self._times = [0] * max_restarts
        self._n = 0
        self._next = 0
        self.last = 0
        self.shift = 0
        self._restarted = False

    @micropython.native
    def allow(self, now, strategy):
        """Record a restart at `now` if the limit allows it; False means escalate."""
        cap = strategy.max_restarts
        if cap == 0:
            return False
        times = self._times
        i = self._next
        within = strategy.within_ms
        if self._n == cap:
            # The oldest of the last `cap` restarts must have left the window.
            if ticks_diff(now, times[i]) < within:
                return False
        else:
            self._n += 1
        if strategy.backoff_min_ms:
            # Backoff doubles while restarts come closer together than the window.
            if self._restarted and ticks_diff(now, self.last) < within:
                self.shift += 1
            else:
                self.shift = 0
            self._restarted = True
            self.last = now
        times[i] = now
        i += 1
        self._next = 0 if i == cap else i
        return True
