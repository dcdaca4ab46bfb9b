# Typed API of cellex.telemetry_fanout (the implementation is telemetry_fanout.py; a test keeps the two
# in step).
from cellex.root_escalation_sink import FailureInfo
from cellex.snapshot import FailureSnapshot
from cellex.telemetry import FailureTelemetry, _Backend

class FanOutFailureTelemetry(FailureTelemetry):
    """Hands each failure to several back-ends in turn; one that raises is counted in `errors`."""

    backends: tuple[_Backend, ...]
    errors: int
    def __init__(self, *backends: _Backend) -> None: ...
    def on_failure(self, snapshot: FailureSnapshot) -> None: ...
    def on_supervised(self, info: FailureInfo) -> None: ...
    def flush(self) -> None: ...
