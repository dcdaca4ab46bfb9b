# Typed API of cellex.telemetry (the implementation is telemetry.py; a test keeps the two in step).
from typing import Any, Final, Protocol

from cellex.metrics import MetricsSink
from cellex.root_escalation_sink import FailureInfo
from cellex.snapshot import FailureSnapshot

class _Backend(Protocol):
    # What the system accepts as a back-end: anything with on_failure(snapshot).
    def on_failure(self, snapshot: FailureSnapshot, /) -> None: ...

class FailureTelemetry:
    """Interface of a failure telemetry back-end (see telemetry.py)."""

    def on_failure(self, snapshot: FailureSnapshot) -> None: ...
    def on_supervised(self, info: FailureInfo) -> None: ...
    def flush(self) -> None: ...

class NoopFailureTelemetry(FailureTelemetry):
    """Does nothing. One shared instance: NOOP_FAILURE_TELEMETRY."""

NOOP_FAILURE_TELEMETRY: Final[NoopFailureTelemetry]

def default_failure_telemetry() -> FailureTelemetry: ...

class FailureTelemetryObservationConfig:
    """Run-time switch for observing telemetry calls: counted, and timed if asked."""

    metrics: MetricsSink | None
    capture_timing: bool
    def __init__(self, metrics: MetricsSink | None = ..., capture_timing: bool = ...) -> None: ...

class TelemetryContext:
    """What a telemetry builder gets at system start."""

    metrics: MetricsSink | None
    extensions: dict[str, Any]
    def __init__(self, metrics: MetricsSink | None, extensions: dict[str, Any]) -> None: ...
