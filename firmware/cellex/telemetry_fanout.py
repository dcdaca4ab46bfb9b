# cellex.telemetry_fanout: FanOutFailureTelemetry, one failure to several back-ends.
# MIT licence.
from cellex.telemetry import FailureTelemetry


class FanOutFailureTelemetry(FailureTelemetry):
    """Hands each failure to every back-end in order (e.g. ring buffer + UART).

    A back-end that raises is counted in `errors` and the others still run.
    """

    def __init__(self, *backends):
        if not backends:
            raise ValueError("fan-out needs at least one back-end")
        for b in backends:
            if not callable(getattr(b, "on_failure", None)):
                raise ValueError("not a telemetry back-end (no on_failure): %r" % (b,))
        self.backends = backends
        self.errors = 0

    def on_failure(self, snapshot):
        for b in self.backends:
            try:
                b.on_failure(snapshot)
            except Exception:  # noqa: BLE001 - one bad back-end must not starve the others
                self.errors += 1

    def flush(self):
        for b in self.backends:
            try:
                b.flush()
            except Exception:  # noqa: BLE001
                self.errors += 1
