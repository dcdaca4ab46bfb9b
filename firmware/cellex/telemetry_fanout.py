# cellex.telemetry_fanout: FanOutFailureTelemetry, one failure to several back-ends.
# MIT licence.
from cellex.compat import clear_traceback, micropython
from cellex.telemetry import FailureTelemetry


class FanOutFailureTelemetry(FailureTelemetry):
    """Hands each failure to every back-end in order (e.g. ring buffer + UART), and each
    supervised failure to those that take them (on_supervised).

    A back-end that raises is counted in `errors` and the others still run.
    on_failure() and flush() allocate nothing and keep their frames off the
    heap (@micropython.native: a bytecode frame with a try block in a loop
    would be taken from the heap on every call).
    """

    def __init__(self, *backends):
        if not backends:
            raise ValueError("fan-out needs at least one back-end")
        for b in backends:
            if not callable(getattr(b, "on_failure", None)):
                raise ValueError("not a telemetry back-end (no on_failure): %r" % (b,))
        self.backends = backends
        # The back-ends that take supervised failures (see FailureTelemetry).
        self._supervised = tuple(b for b in backends if callable(getattr(b, "on_supervised", None)))
        self.errors = 0

    @micropython.native
    def on_failure(self, snapshot):
        for b in self.backends:
            try:
                b.on_failure(snapshot)
            except Exception as e:  # noqa: BLE001 - one bad back-end must not starve the others
                clear_traceback(e)  # a preallocated error raised again must not grow
                self.errors += 1

    @micropython.native
    def on_supervised(self, info):
        for b in self._supervised:
            try:
                b.on_supervised(info)
            except Exception as e:  # noqa: BLE001
                clear_traceback(e)
                self.errors += 1

    @micropython.native
    def flush(self):
        for b in self.backends:
            try:
                b.flush()
            except Exception as e:  # noqa: BLE001
                clear_traceback(e)
                self.errors += 1
