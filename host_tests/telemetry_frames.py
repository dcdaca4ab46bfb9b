"""Telemetry streams for the monitor's tests, made by the firmware's own UART back-end under CPython."""

from cellex.snapshot import FailureSnapshot
from cellex.telemetry_uart import UartFailureTelemetry

PATHS = (("user", "sensors", "imu"), ("user", "sensors", "baro"), ("user", "net", "mqtt"))
ERRORS = ("OSError", "SensorFault", "ValueError")


class _Wire:
    """A writer that takes everything (a UART that is never full) and keeps the bytes."""

    def __init__(self):
        self.data = bytearray()

    def write(self, buf, n=-1):
        n = len(buf) if n < 0 else n
        self.data += bytes(buf[:n])
        return n


class Board:
    """A board's telemetry back-end: failures() returns the bytes of the next failure frames.

    Failure i (counting from 0 over the board's life) has sequence i, actor id i % 3, path
    PATHS[i % 3], error ERRORS[i % 3], reason "fault <i>". A new Board is a rebooted board:
    its first frame carries the stream-start flag.
    """

    def __init__(self):
        self._wire = _Wire()
        self._telemetry = UartFailureTelemetry(self._wire)
        self._snapshot = FailureSnapshot()
        self.sent = 0

    def failures(self, n):
        for _ in range(n):
            i = self.sent
            s = self._snapshot
            s.clear()
            s.sequence = i
            s.timestamp_ms = 1000 + 10 * i
            s.actor_id = i % 3
            s.path = PATHS[i % 3]
            s.error_type = ERRORS[i % 3]
            s.reason = "fault %d" % i
            s.set_description(s.reason)
            s.stage = 1
            self._telemetry.on_failure(s)
            self.sent += 1
        return self._take()

    def _take(self):
        data = bytes(self._wire.data)
        self._wire.data.clear()
        return data
