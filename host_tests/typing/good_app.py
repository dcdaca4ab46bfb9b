# A user's app that uses the cellex API as documented: basedpyright finds no error in it
# (host_tests/test_typed_api.py), and it runs.
from cellex.actor import Actor
from cellex.actor_ref import ActorRef
from cellex.config import ActorSystemConfig
from cellex.errors import preallocated
from cellex.snapshot import FailureSnapshot, TaggedError
from cellex.supervision import ESCALATE, ONE_FOR_ONE, RESTART, SupervisorStrategy
from cellex.system import ActorSystem
from cellex.telemetry_ring import RingBufferFailureTelemetry
from cellex.watch import Terminated


class SensorTimeout(TaggedError):
    telemetry_tags = (("bus", "i2c0"),)


_TIMEOUT = preallocated(SensorTimeout("i2c read timed out"))


class Imu(Actor):
    def __init__(self, out: ActorRef) -> None:
        self.out = out
        self.reads = 0

    def receive(self, msg: object) -> None:
        self.reads += 1
        if self.reads == 2:
            raise _TIMEOUT
        self.out.tell(self.reads)

    def on_restart(self) -> None:
        self.reads = 0


class Logger(Actor):
    def __init__(self) -> None:
        self.seen: list[object] = []

    def receive(self, msg: object) -> None:
        if isinstance(msg, Terminated):
            self.system.stop()
        self.seen.append(msg)


def main() -> None:
    ring = RingBufferFailureTelemetry(4)
    config = (
        ActorSystemConfig(max_actors=4, mailbox_capacity=4, snapshot_slots=2)
        .with_failure_telemetry(ring)
        .with_guardian_strategy(SupervisorStrategy(ESCALATE))
    )
    system = ActorSystem(config)
    restart_imu = SupervisorStrategy(RESTART, ONE_FOR_ONE, max_restarts=3, within_ms=1000)
    sensors = system.spawn(Actor(), "sensors", supervisor=restart_imu)
    log = system.spawn(Logger(), "log")
    imu = system.spawn(Imu(log), "imu", parent=sensors, component="imu", tags=[("addr", "0x68")])
    system.watch(log, imu)
    system.start()
    for _ in range(3):
        imu.tell(b"read")
    handle = system.send_after(imu, b"read", 1000)
    system.cancel(handle)
    system.run_until_idle()
    restarts = imu.restarts
    imu.stop()
    system.run_forever()
    kept: list[FailureSnapshot] = []
    ring.drain(kept.append)
    print("%s restarted %d time(s); the ring kept %d failure(s)" % (imu.name, restarts, len(kept)))


main()
