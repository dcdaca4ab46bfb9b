# demo: a small sensor / filter / logger supervision tree that fails in every way cellex knows,
# and streams each failure that reaches the root over the board's telemetry UART.
# MIT licence.
#
# Deployed as main.py (make demo on the virtual board; make deploy APP=apps/demo.py on a board).
# A periodic timer paces the sampling (send_every); between samples the system sleeps in
# run_forever()'s idle hook, and the summary shows the share of time it slept (idle_pct).
# Runs a fixed script for a few seconds, then prints one summary line on the console:
#   cellex demo: done root_failures=N frames_sent=N frames_dropped=N ...
# and a last heartbeat frame with the same counters on the telemetry UART.
# Last scene: /user/calib hangs in receive(); the watchdog resets the board, main.py
# runs again and, finding the hung actor in the reset record, sends a boot frame naming it and
# prints "cellex demo: rebooted ..." instead of running the script again.
import errno
import gc

import board_config
import micropython

from cellex.actor import Actor
from cellex.boot_frame import CAUSE_NAMES, reset_cause, send_boot_frame
from cellex.config import ActorSystemConfig
from cellex.metrics import TELEMETRY_INVOKED, MetricsSink
from cellex.reset_record import ResetRecord, board_store
from cellex.snapshot import TaggedError
from cellex.supervision import ESCALATE, RESTART, RESUME, SupervisorStrategy
from cellex.system import ActorSystem
from cellex.telemetry import FailureTelemetryObservationConfig
from cellex.telemetry_fanout import FanOutFailureTelemetry
from cellex.telemetry_ring import RingBufferFailureTelemetry
from cellex.telemetry_uart import UartFailureTelemetry

if hasattr(micropython, "alloc_emergency_exception_buf"):  # boards have it, the unix port not
    micropython.alloc_emergency_exception_buf(100)

_READINGS = 60  # sensor readings in the script
_PERIOD_MS = 20  # one reading every 20 ms: the script takes about 1.2 s
# The watchdog's timeout: the last scene's hang lasts this long (on the emulated Pico,
# simulated time: a busy core runs at about a quarter of real time).
_WATCHDOG_MS = 1000
_CALIBRATE = "calibrate"

# Preallocated built-in exceptions: raising them again allocates nothing
# (cellex clears their traceback each time).
_IMU_TIMEOUT = OSError(errno.ETIMEDOUT)


class SensorFault(TaggedError):
    """A sensor's reading is unusable (raised fresh: collected after use)."""


class Imu(Actor):
    """Every 6th read times out: its supervisor restarts it (a local failure, not telemetry)."""

    def __init__(self, out):
        self.out = out
        self.reads = 0

    def receive(self, n):
        self.reads += 1
        if self.reads % 6 == 0:
            raise _IMU_TIMEOUT
        self.out.tell(n)

    def on_restart(self):
        self.reads = 0


class Baro(Actor):
    """From reading 50 the sensor is broken: failures come faster than the restart limit."""

    def __init__(self, out):
        self.out = out

    def receive(self, n):
        if n >= 50:
            raise SensorFault("pressure out of range")
        self.out.tell(n)


class Filter(Actor):
    """A spike in the data is a bug here: it escalates straight to the root."""

    def __init__(self, out):
        self.out = out

    def receive(self, n):
        if n == 40:
            e = SensorFault("spike in sample %d" % n)
            # Tags attached to the failure itself (a TaggedError).
            e.telemetry_tags = (("sample", str(n)),)
            raise e
        self.out.tell(n)


class Logger(Actor):
    """A full log is not worth a restart: its supervisor resumes it."""

    def __init__(self):
        self.lines = 0

    def receive(self, n):
        self.lines += 1
        if self.lines % 25 == 0:
            raise OSError(errno.ENOSPC)


class Sampler(Actor):
    """Driven by a periodic timer: each tick is one reading for both sensors."""

    def __init__(self, imu, baro, jobs):
        self.imu = imu
        self.baro = baro
        self.jobs = jobs
        self.n = 0

    def receive(self, tick):
        n = self.n
        self.imu.tell(n)
        self.baro.tell(n)
        if n % 10 == 5 and n < 30:
            self.jobs[n // 10].tell(n)  # the root stops each job after its failure ...
        if n == 35:
            self.jobs[0].tell(n)  # ... so this is a dead letter
        self.n = n + 1
        if self.n == _READINGS:
            self.system.stop()  # run_forever() returns once this burst is dispatched


class Calibrator(Actor):
    """Waits for a ready bit that never comes: its receive() never returns (the last scene)."""

    def __init__(self):
        self.ready = False

    def receive(self, msg):
        while msg is _CALIBRATE and not self.ready:
            pass


class Job(Actor):
    """A top-level job whose failure escalates to the root, which stops it."""

    def receive(self, n):
        raise RuntimeError("job %d failed" % n)


def _build_telemetry(ctx):
    # Called once at start by the system: the board's UART comes in as an extension.
    backends = []
    uart_backend = None
    for name in board_config.TELEMETRY_BACKENDS:
        if name == "uart":
            uart_backend = UartFailureTelemetry(ctx.extensions["uart"])
            backends.append(uart_backend)
        elif name == "ring":
            backends.append(RingBufferFailureTelemetry(board_config.RING_SLOTS))
    ctx.extensions["backends"] = backends
    ctx.extensions["uart_backend"] = uart_backend
    return backends[0] if len(backends) == 1 else FanOutFailureTelemetry(*backends)


def main():
    gc.collect()
    heap_before = gc.mem_alloc()
    # What the last run left in memory that survives a reset (a file on the virtual board).
    record = ResetRecord(board_store())
    record.boot()
    hung = record.running_id  # an actor was in receive() when the board reset: the last scene
    metrics = MetricsSink()
    esc = SupervisorStrategy(ESCALATE)
    cfg = ActorSystemConfig(
        max_actors=board_config.MAX_ACTORS,
        mailbox_capacity=board_config.MAILBOX_CAPACITY,
        snapshot_slots=board_config.SNAPSHOT_SLOTS,
        guardian_strategy=esc,
    )
    cfg.with_extension("uart", board_config.telemetry_uart())
    cfg.with_failure_telemetry_builder(_build_telemetry)
    cfg.with_failure_observation_config(FailureTelemetryObservationConfig(metrics, capture_timing=True))
    cfg.with_reset_record(record)
    cfg.with_supervised_failure_telemetry()  # restarts, resumes and stops on the wire too
    if not hung:
        # Started, a watchdog cannot be stopped: not after the last scene, whose run ends in the REPL.
        cfg.with_watchdog(_WATCHDOG_MS)
    system = ActorSystem(cfg)

    logger = system.spawn(Logger(), "logger", directive=RESUME, component="logger")
    flt = system.spawn(Filter(logger), "filter", component="filter", endpoint="dsp0")
    sensors = system.spawn(
        Actor(), "sensors", supervisor=SupervisorStrategy(RESTART, max_restarts=2, within_ms=200)
    )
    imu = system.spawn(Imu(flt), "imu", parent=sensors, component="imu", endpoint="i2c0:0x68",
                       transport="i2c", tags=(("bus", "i2c0"), ("rev", "b")))  # fmt: skip
    baro = system.spawn(Baro(flt), "baro", parent=sensors, component="baro", endpoint="i2c0:0x77",
                        transport="i2c", tags=(("bus", "i2c0"),))  # fmt: skip
    calib = system.spawn(Calibrator(), "calib", component="calib")  # top-level: the root stops /user/sensors
    jobs = [system.spawn(Job(), "job%d" % i, tags=(("job", str(i)),)) for i in range(3)]
    sampler = system.spawn(Sampler(imu, baro, jobs), "sampler")
    system.send_every(sampler, 0, _PERIOD_MS, 0)  # the first reading now, then every period
    system.start()
    uart_backend = cfg.extensions["uart_backend"]
    heap_system = gc.mem_alloc() - heap_before
    if uart_backend is not None:
        # The boot frame opens the telemetry stream: why the board booted, what survived.
        send_boot_frame(uart_backend, record, system)
    if hung:
        path = [str(r.path) for r in system.actors() if r.id == hung]
        cause = CAUSE_NAMES[reset_cause()]
        print("cellex demo: rebooted (%s) while %s was running" % (cause, path[0] if path else "?"))
        return

    n_actors = len(system.actors())
    print("cellex demo: %d actors, heap %d bytes for the system; running" % (n_actors, heap_system))
    system.run_forever()  # dispatch, then sleep until the next tick (cellex.idle.default_idle)

    c = system.counters
    if uart_backend is not None:
        uart_backend.heartbeat(c.snapshots_dropped)
        uart_backend.flush()
    print(
        "cellex demo: done root_failures=%d frames_sent=%d frames_dropped=%d restarts=%d resumes=%d "
        "escalations=%d intensity_exceeded=%d dead_letters=%d delivered=%d snapshots_dropped=%d "
        "telemetry_max_us=%d heap_system=%d timer_fires=%d idle_ms=%d loop_ms=%d idle_pct=%d"
        % (
            c.root_failures,
            uart_backend.frames_sent if uart_backend else 0,
            uart_backend.frames_dropped if uart_backend else 0,
            c.restarts, c.resumes, c.escalations, c.intensity_exceeded, c.dead_letters, c.delivered,
            c.snapshots_dropped, metrics.max_us[TELEMETRY_INVOKED], heap_system,
            c.timer_fires, c.idle_ms, c.loop_ms, c.idle_ms * 100 // c.loop_ms if c.loop_ms else 0,
        )  # fmt: skip
    )

    # Last scene: calib's receive() never returns, so the scheduler stops feeding the watchdog,
    # which resets the board; the next boot's frame names calib (the reset record kept it).
    print("cellex demo: last scene: %s hangs; the watchdog resets the board" % calib.path)
    system.cancel_timers(sampler)
    calib.tell(_CALIBRATE)
    system.run_until_idle()


main()
