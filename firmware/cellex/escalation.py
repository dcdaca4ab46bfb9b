# cellex.escalation: CompositeEscalationSink, the chain a failure walks up the tree.
# MIT licence.
#
# Order: the failing actor's supervisor decides; ESCALATE (or a refused
# restart) moves the decision one hop up, to the supervisor's supervisor,
# up to the guardian strategy of top-level actors; then the custom
# escalation handler (if any) may absorb it; else the RootEscalationSink
# gets it. Every decision is reported (RootEscalationSink.report). Nothing
# on this path allocates.
from cellex.compat import clear_traceback, micropython
from cellex.supervision import (
    ESCALATE,
    EXIT,
    NORMAL,
    PER_CHILD,
    PERMANENT,
    RESTART,
    RESUME,
    STOP,
    TEMPORARY,
)

_STOPPED = 2  # = actor_ref.STOPPED


class CompositeEscalationSink:
    """Walks a failure through parent supervisors, the custom handler, then the root.

    handler(origin, error, stage) -> bool is the optional custom escalation
    handler (ActorSystemConfig.with_escalation_handler): True means it dealt
    with the failure and the root does not see it. A raising handler is
    counted (handler_errors) and the failure goes on to the root.

    Restart intensity (OTP): a RESTART is recorded in the supervisor's
    history (PER_SUPERVISOR: over all its children; PER_CHILD: the child's
    own); one too many and the supervisor itself fails. The child that
    exceeded the limit never carries on: unless a restart or stop higher up
    covers it, it is stopped (reason: the error). An on_restart() that raises
    is a failure of that actor, decided after the restart in progress.
    """

    def __init__(self, system, root, guardian, handler, ticks_ms):
        self._system = system
        self._counters = system.counters
        self._root = root
        self._guardian = guardian
        self._handler = handler
        self._ticks_ms = ticks_ms

    @micropython.native
    def handle(self, origin, error):
        """A failure of actor `origin` (receive() raised `error`): apply the supervisors' decisions."""
        system = self._system
        if error is EXIT:
            self._exit(origin)
        elif origin.directive is None and origin._first is None and origin.restart_type != TEMPORARY:
            # The common case on its own short path, with no loop: a childless
            # actor whose supervisor restarts it alone (strategy._plain).
            # Same decisions, counters and report as _decide() and _restart().
            parent = origin.parent
            node = system._guardian if parent is None else parent
            strategy = node.strategy
            if strategy._plain and node._child_history.allow(self._ticks_ms(), strategy):
                counters = self._counters
                counters.failures += 1
                origin.failures += 1
                h = origin._child_history
                if h._n:
                    h.clear()
                origin.restarts += 1
                counters.restarts += 1
                try:
                    origin.actor.on_restart()
                except Exception as e:  # noqa: BLE001 - a failed restart is a failure of that actor
                    system._restart_failed(origin, e)
                root = self._root
                if root.reporting:
                    root.report(origin, origin, error, RESTART, 0)
                else:
                    counters.supervised += 1
            else:
                self._decide(origin, error, False)
        else:
            self._decide(origin, error, False)
        if system._failed_n:
            self.drain()

    def _exit(self, origin):
        # A normal end (Actor.exit()): only a PERMANENT actor is restarted.
        if origin.restart_type == PERMANENT:
            self._decide(origin, EXIT, True)
        else:
            self._system._stop(origin, NORMAL)

    @micropython.native
    def drain(self):
        """Decide the on_restart() failures met while applying a restart, oldest first."""
        system = self._system
        refs = system._failed_ref
        errs = system._failed_err
        while system._failed_n:
            # Take the oldest; shift the rest down (a handful at most).
            ref = refs[0]
            err = errs[0]
            n = system._failed_n - 1
            i = 0
            while i < n:
                refs[i] = refs[i + 1]
                errs[i] = errs[i + 1]
                i += 1
            refs[n] = None
            errs[n] = None
            system._failed_n = n
            if ref.state != _STOPPED:
                self._decide(ref, err, False)
            clear_traceback(err)

    @micropython.native
    def _decide(self, origin, error, normal):
        # normal: a PERMANENT actor's normal exit, restarted (not a failure).
        counters = self._counters
        system = self._system
        root = self._root
        if not normal:
            counters.failures += 1
            origin.failures += 1
        subject = origin
        exceeded = None
        stage = 0
        while True:
            parent = subject.parent
            node = system._guardian if parent is None else parent
            strategy = node.strategy
            if normal and stage == 0:
                d = RESTART
            else:
                d = subject.directive
                if d is None:
                    # strategy.decide(error), without the call when there is no decider
                    d = strategy.directive if strategy.decider is None else strategy.decide(error)
            if d == RESTART and subject.restart_type == TEMPORARY:
                d = STOP  # a temporary actor is never restarted
            if d == RESTART:
                now = self._ticks_ms()
                history = subject._history if strategy.intensity == PER_CHILD else node._child_history
                if history.allow(now, strategy):
                    if strategy.backoff_min_ms:
                        subject._history.backoff(now, strategy)
                    system._restart_scope(subject, strategy, now, origin)
                    if root.reporting:
                        root.report(origin, subject, error, RESTART, stage)
                    else:
                        counters.supervised += 1
                    return
                counters.intensity_exceeded += 1
                if exceeded is None:
                    exceeded = subject
                d = ESCALATE
            if d == RESUME:
                counters.resumes += 1
                if exceeded is not None:
                    system._stop(exceeded, error)  # the child over the limit does not carry on
                if root.reporting:
                    root.report(origin, subject, error, RESUME, stage)
                else:
                    counters.supervised += 1
                return
            if d == STOP:
                counters.stops += 1
                system._stop(subject, error)
                if root.reporting:
                    root.report(origin, subject, error, STOP, stage)
                else:
                    counters.supervised += 1
                return
            counters.escalations += 1
            stage += 1
            if parent is None:
                break
            subject = parent
        handler = self._handler
        if handler is not None:
            try:
                handled = handler(origin, error, stage)
            except Exception as e:  # noqa: BLE001 - the handler must not break supervision
                clear_traceback(e)
                counters.handler_errors += 1
                handled = False
            if handled:
                counters.handled_by_handler += 1
                if exceeded is not None:
                    system._stop(exceeded, error)
                # Out of the tree into the handler: reported, as every decided failure is.
                if root.reporting:
                    root.report(origin, subject, error, ESCALATE, stage)
                else:
                    counters.supervised += 1
                return
        root.on_failure(origin, subject, error, stage)
