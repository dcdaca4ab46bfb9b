# cellex.root_escalation_sink: RootEscalationSink, where every escalation ends.
# MIT licence.
#
# For each failure reaching the root, in this order: the event handler
# (generic notification), the event listener (secondary processing), then
# failure telemetry exactly once: the failure is copied into a free slot of
# the snapshot pool and handed to the back-end, observed by the metrics sink
# when configured. Then the root policy: stop the failing subtree, or flush
# telemetry and reset the board. Failures a supervisor decided below the
# root (report()) go to the event listener and, when the config asks, to the
# back-end's on_supervised(). Every step that can raise is caught and
# counted; none of it allocates.
from cellex.compat import const, micropython, ticks_diff, ticks_us
from cellex.metrics import TELEMETRY_INVOKED
from cellex.snapshot import SnapshotPool
from cellex.supervision import ESCALATE
from cellex.telemetry import FailureTelemetryObservationConfig, default_failure_telemetry

# Sequence numbers wrap at 2**30 (small ints on a 32-bit board). An imported
# plain global, never a literal in native code (see cellex.wire.U30).
from cellex.wire import U30 as _SEQUENCE_WRAP

# Root policies
ROOT_STOP = 0  # stop the top-level actor the failure escalated from, and its subtree
ROOT_RESET = 1  # flush telemetry, then call the reset function (machine.reset on a board)

# How many failures can be in the root at once (a failure raised while the
# root handles another, e.g. from a handler that dispatches messages). Each
# level is a dispatch plus the native escalation path on the C stack: on the
# emulated RP2040 three levels overflowed it inside the test runner, two fit.
MAX_NESTING = const(2)


class FailureInfo:
    """A failure as a listener sees it; valid only during the call that receives it.

    actor    the ActorRef that raised (in receive() or on_restart())
    subject  the ActorRef the decision applied to: the failed actor, or the
             supervisor the failure escalated to (for the root: the
             top-level ActorRef, the subtree the root stops)
    error    the exception
    decision what was done: RESTART / RESUME / STOP by a supervisor, or
             ESCALATE for a failure that left the tree (reached the root, or
             was absorbed by the custom escalation handler)
             (cellex.supervision.DECISION_NAMES[decision]: "restarted"...)
    stage    escalation stage: supervisor hops climbed
    sequence the root's failure number (same as the snapshot's); for
             supervised failures, the number of the supervised-failure stream
    timestamp_ms
    """

    def __init__(self):
        self.actor = None
        self.subject = None
        self.error = None
        self.decision = ESCALATE
        self.stage = 0
        self.sequence = 0
        self.timestamp_ms = 0


class RootEscalationSink:
    """The end of every escalation: handler, listener, telemetry, root policy."""

    def __init__(self, system, config):
        self._system = system
        self._counters = system.counters
        self._ticks_ms = config.ticks_ms
        self.event_handler = config.event_handler
        self.event_listener = config.event_listener
        obs = config.observation
        self.observation = FailureTelemetryObservationConfig() if obs is None else obs
        # `is None`, not `or`: an empty ring buffer has len() 0 and is falsy.
        self.telemetry = default_failure_telemetry() if config.telemetry is None else config.telemetry
        # Supervised failures to telemetry too (config.supervised_telemetry)?
        # Settled with the back-end (see _set_telemetry()).
        self._supervised_telemetry = config.supervised_telemetry
        self._to_telemetry = False
        self.policy = config.root_policy
        self._reset = config.reset
        # cellex.reset_record.ResetRecord: every root failure is kept there
        # (the last one wins), so the next boot can report it (issue 16)
        self.reset_record = config.reset_record
        self.builder_error = None
        self.sequence = 0
        # Failures decided below the root are numbered apart from root failures.
        self.supervised_sequence = 0
        # report() has something to do (read by the escalation sink first)
        self.reporting = False
        self._set_telemetry(self.telemetry)
        self._infos = [FailureInfo() for _ in range(MAX_NESTING)]
        self._depth = 0
        self.pool = None

    def start(self, slots):
        """Create the snapshot pool (called by ActorSystem.start)."""
        self.pool = SnapshotPool(slots)

    def apply_builder(self, ctx, builder):
        """Install the back-end builder(ctx) returns; on error keep the current one.

        A builder that raises, or returns something without on_failure, is
        counted in builder_errors and kept in `builder_error`; the system
        starts anyway.
        """
        try:
            telemetry = builder(ctx)
            if not callable(getattr(telemetry, "on_failure", None)):
                raise TypeError("telemetry builder returned %r, which has no on_failure()" % (telemetry,))
        except Exception as e:  # noqa: BLE001 - a bad builder must not stop the system
            self._counters.builder_errors += 1
            self.builder_error = e
            return
        self._set_telemetry(telemetry)

    def _set_telemetry(self, telemetry):
        # The back-end is sent supervised failures when the config asks and it
        # has on_supervised() (FailureTelemetry's interface).
        self.telemetry = telemetry
        takes = callable(getattr(telemetry, "on_supervised", None))
        self._to_telemetry = self._supervised_telemetry and takes
        self.reporting = self.event_listener is not None or self._to_telemetry

    @micropython.native
    def on_failure(self, actor, subject, error, stage):
        """Take one failure that escalated past every supervisor."""
        counters = self._counters
        counters.root_failures += 1
        seq = self.sequence
        self.sequence = (seq + 1) & _SEQUENCE_WRAP
        depth = self._depth
        if depth == MAX_NESTING:
            counters.nested_dropped += 1
        else:
            self._depth = depth + 1
            try:
                info = self._infos[depth]
                info.actor = actor
                info.subject = subject
                info.error = error
                info.decision = ESCALATE
                info.stage = stage
                info.sequence = seq
                info.timestamp_ms = self._ticks_ms()
                if self.event_handler is not None or self.event_listener is not None:
                    self._notify(info)
                self._capture(info)
                info.actor = info.subject = info.error = None
            finally:
                self._depth = depth
        record = self.reset_record
        if record is not None:
            try:
                record.record_failure(actor.id, error, stage, seq, self._ticks_ms())
            except Exception:  # noqa: BLE001 - a broken store must not stop supervision
                counters.telemetry_errors += 1
        if self.policy == ROOT_RESET:
            self.flush()
            self._reset()
        else:
            self._system._stop(subject, error)

    @micropython.native
    def report(self, actor, subject, error, decision, stage):
        """A failure decided below the root (RESTART / RESUME / STOP by a supervisor,
        ESCALATE when the custom escalation handler absorbed it): to the event listener
        and, when configured, to the back-end's on_supervised() (counted and observed
        like a root failure's telemetry call)."""
        counters = self._counters
        counters.supervised += 1
        listener = self.event_listener
        if listener is None and not self._to_telemetry:
            return
        seq = self.supervised_sequence
        self.supervised_sequence = (seq + 1) & _SEQUENCE_WRAP
        depth = self._depth
        if depth == MAX_NESTING:
            counters.nested_dropped += 1
            return
        self._depth = depth + 1
        try:
            info = self._infos[depth]
            info.actor = actor
            info.subject = subject
            info.error = error
            info.decision = decision
            info.stage = stage
            info.sequence = seq
            info.timestamp_ms = self._ticks_ms()
            if listener is not None:
                try:
                    listener(info)
                except Exception:  # noqa: BLE001 - a raising listener must not stop supervision
                    counters.listener_errors += 1
            if self._to_telemetry:
                self._dispatch(info, True)
            info.actor = info.subject = info.error = None
        finally:
            self._depth = depth

    def flush(self):
        """Flush the back-end (never raises; errors are counted)."""
        try:
            self.telemetry.flush()
        except Exception:  # noqa: BLE001
            self._counters.telemetry_errors += 1

    @micropython.native
    def _notify(self, info):
        counters = self._counters
        handler = self.event_handler
        if handler is not None:
            try:
                handler(info)
            except Exception:  # noqa: BLE001 - a raising handler must not stop supervision
                counters.handler_errors += 1
        listener = self.event_listener
        if listener is not None:
            try:
                listener(info)
            except Exception:  # noqa: BLE001
                counters.listener_errors += 1

    @micropython.native
    def _capture(self, info):
        pool = self.pool
        snapshot = None if pool is None else pool.acquire()
        if pool is None or snapshot is None:
            self._counters.snapshots_dropped += 1
            return
        try:
            snapshot.capture(info)
            self._dispatch(snapshot, False)
        finally:
            pool.release(snapshot)

    @micropython.native
    def _dispatch(self, item, supervised):
        # One telemetry call: a root failure's snapshot to on_failure(), or a
        # supervised failure's FailureInfo to on_supervised(); counted in
        # telemetry_calls (its raising in telemetry_errors) and observed by
        # the metrics sink.
        counters = self._counters
        counters.telemetry_calls += 1
        obs = self.observation
        metrics = obs.metrics
        timed = metrics is not None and obs.capture_timing
        t0 = ticks_us() if timed else 0
        try:
            if supervised:
                self.telemetry.on_supervised(item)
            else:
                self.telemetry.on_failure(item)
        except Exception:  # noqa: BLE001 - back-ends never raise into the runtime
            counters.telemetry_errors += 1
        if metrics is not None:
            metrics.record(TELEMETRY_INVOKED, ticks_diff(ticks_us(), t0) if timed else -1)
