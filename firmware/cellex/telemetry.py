# cellex.telemetry: the FailureTelemetry interface, the shared Noop back-end, and the injection types.
# MIT licence.
#
# Back-ends live in their own modules (telemetry_ring, telemetry_uart,
# telemetry_fanout) so a board imports only the ones it uses.


class FailureTelemetry:
    """Interface of a failure telemetry back-end.

    on_failure(snapshot) is called by the RootEscalationSink exactly once per
    failure that reaches the root, after the event handler and listener. It
    returns nothing, must not block, and should not raise: if it does, the
    root swallows and counts it (SystemCounters.telemetry_errors). The
    snapshot is only valid during the call. flush() pushes out anything
    buffered, synchronously; the root calls it before a board reset.

    on_supervised(info) is called once per failure a supervisor decided
    (restarted, resumed, stopped), only when the system's config turned it on
    (ActorSystemConfig.with_supervised_failure_telemetry()). `info` is the
    root's FailureInfo (actor, error, decision, stage, sequence,
    timestamp_ms), valid only during the call; same rules as on_failure().
    A back-end without this method is not sent supervised failures.
    """

    def on_failure(self, snapshot):
        pass

    def on_supervised(self, info):
        pass

    def flush(self):
        pass


class NoopFailureTelemetry(FailureTelemetry):
    """Does nothing. One shared instance: NOOP_FAILURE_TELEMETRY."""


NOOP_FAILURE_TELEMETRY = NoopFailureTelemetry()


def default_failure_telemetry():
    """The back-end used when the config sets none: the shared Noop."""
    return NOOP_FAILURE_TELEMETRY


class FailureTelemetryObservationConfig:
    """Run-time switch for observing telemetry calls: counted, and timed if asked.

    metrics         a MetricsSink, or None: with a sink, each telemetry call is
                    recorded as a TELEMETRY_INVOKED event
    capture_timing  also measure each call's duration (time.ticks_us)
    """

    def __init__(self, metrics=None, capture_timing=False):
        self.metrics = metrics
        self.capture_timing = capture_timing


class TelemetryContext:
    """What a telemetry builder gets at system start.

    metrics     the MetricsSink of the observation config, or None
    extensions  dict of named objects the application registered with
                ActorSystemConfig.with_extension(), e.g. "uart": the board's UART
    """

    def __init__(self, metrics, extensions):
        self.metrics = metrics
        self.extensions = extensions
