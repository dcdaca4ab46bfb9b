# cellex.escalation: CompositeEscalationSink, the chain a failure walks up the tree.
# MIT licence.
#
# Order: the failing actor's supervisor decides; ESCALATE (or a refused
# restart) moves the decision one hop up, to the supervisor's supervisor,
# up to the guardian strategy of top-level actors; then the custom
# escalation handler (if any) may absorb it; else the RootEscalationSink
# gets it. Nothing on this path allocates.
from cellex.compat import micropython
from cellex.supervision import ESCALATE, RESTART, RESUME, STOP


class CompositeEscalationSink:
    """Walks a failure through parent supervisors, the custom handler, then the root.

    handler(origin, error, stage) -> bool is the optional custom escalation
    handler (ActorSystemConfig.with_escalation_handler): True means it dealt
    with the failure and the root does not see it. A raising handler is
    counted (handler_errors) and the failure goes on to the root.
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
        """A failure of actor `origin`: apply the supervisors' decisions."""
        counters = self._counters
        counters.failures += 1
        origin.failures += 1
        system = self._system
        subject = origin
        stage = 0
        while True:
            parent = subject.parent
            strategy = self._guardian if parent is None else parent.strategy
            d = subject.directive
            if d is None:
                # strategy.decide(error), without the call when there is no decider
                d = strategy.directive if strategy.decider is None else strategy.decide(error)
            if d == RESTART:
                now = self._ticks_ms()
                if subject._history.allow(now, strategy):
                    system._restart_scope(subject, strategy, now)
                    return
                counters.intensity_exceeded += 1
                d = ESCALATE
            if d == RESUME:
                counters.resumes += 1
                return
            if d == STOP:
                counters.stops += 1
                system._stop(subject)
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
            except Exception:  # noqa: BLE001 - the handler must not break supervision
                counters.handler_errors += 1
                handled = False
            if handled:
                counters.handled_by_handler += 1
                return
        self._root.on_failure(origin, subject, error, stage)
