"""Telemetry streams for the monitor's tests, made by the firmware's own UART back-end under CPython."""

from actors import FAIL, Counter
from cellex.config import ActorSystemConfig
from cellex.snapshot import FailureSnapshot
from cellex.supervision import ESCALATE, RESTART, SupervisorStrategy
from cellex.system import ActorSystem
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


def supervised_run(restarts):
    """The bytes a real actor system sends with supervised-failure telemetry on: its child
    /sensors/imu fails `restarts` times and is restarted each time (supervision frames), then
    the supervisor /sensors itself fails and escalates to the root (a root failure)."""
    wire = _Wire()
    cfg = ActorSystemConfig(max_actors=4).with_failure_telemetry(UartFailureTelemetry(wire))
    cfg.with_supervised_failure_telemetry()
    cfg.with_guardian_strategy(SupervisorStrategy(ESCALATE))
    system = ActorSystem(cfg)
    sensors = system.spawn(Counter(), "sensors", supervisor=SupervisorStrategy(RESTART, max_restarts=1000))
    imu = system.spawn(Counter(), "imu", parent=sensors)
    system.start()
    for _ in range(restarts):
        imu.tell(FAIL)
        system.run_until_idle()
    sensors.tell(FAIL)
    system.run_until_idle()
    return bytes(wire.data)
