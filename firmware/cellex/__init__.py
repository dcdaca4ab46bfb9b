# cellex: a no-allocation actor runtime for MicroPython, with failure telemetry.
# MIT licence.
#
# Names load lazily (as asyncio does), so `import cellex` costs little RAM and
# a board only pulls in the back-ends it uses.
__version__ = "0.1.0"

_attrs = {
    "Actor": "actor",
    "ActorRef": "actor_ref",
    "ActorPath": "actor_path",
    "ActorSystem": "system",
    "ActorSystemConfig": "config",
    "ReadyQueueScheduler": "scheduler",
    "SupervisorStrategy": "supervision",
    "RESUME": "supervision",
    "RESTART": "supervision",
    "STOP": "supervision",
    "ESCALATE": "supervision",
    "ONE_FOR_ONE": "supervision",
    "ONE_FOR_ALL": "supervision",
    "REST_FOR_ONE": "supervision",
    "PERMANENT": "supervision",
    "TRANSIENT": "supervision",
    "TEMPORARY": "supervision",
    "PER_SUPERVISOR": "supervision",
    "PER_CHILD": "supervision",
    "NORMAL": "supervision",
    "SHUTDOWN": "supervision",
    "EXIT": "supervision",
    "Terminated": "watch",
    "Watches": "watch",
    "CompositeEscalationSink": "escalation",
    "RootEscalationSink": "root_escalation_sink",
    "FailureInfo": "root_escalation_sink",
    "ROOT_STOP": "root_escalation_sink",
    "ROOT_RESET": "root_escalation_sink",
    "FailureSnapshot": "snapshot",
    "TelemetryTag": "snapshot",
    "TaggedError": "snapshot",
    "MAX_FAILURE_SNAPSHOT_TAGS": "snapshot",
    "FailureTelemetry": "telemetry",
    "NoopFailureTelemetry": "telemetry",
    "NOOP_FAILURE_TELEMETRY": "telemetry",
    "default_failure_telemetry": "telemetry",
    "FailureTelemetryObservationConfig": "telemetry",
    "TelemetryContext": "telemetry",
    "MetricsSink": "metrics",
    "TELEMETRY_INVOKED": "metrics",
    "RingBufferFailureTelemetry": "telemetry_ring",
    "FanOutFailureTelemetry": "telemetry_fanout",
    "UartFailureTelemetry": "telemetry_uart",
    "Timers": "timers",
    "TIMERS_FULL": "timers",
    "PostRing": "post",
    "Deadlines": "deadlines",
    "Call": "ask",
    "Topic": "pubsub",
    "Stash": "stash",
    "DeadLetters": "dead_letters",
}


def __getattr__(attr):
    mod = _attrs.get(attr, None)
    if mod is None:
        raise AttributeError(attr)
    value = getattr(__import__("cellex." + mod, None, None, [attr]), attr)
    globals()[attr] = value
    return value
