# bench_cellex: the cellex benchmark body; runs under MicroPython and CPython alike.
# MIT licence.
#
#   MICROPYPATH=firmware .venv/bin/micropython cellex_tools/bench_cellex.py [quick] [GROUP ...]
#   PYTHONPATH=firmware python cellex_tools/bench_cellex.py [quick] [GROUP ...]
#
# GROUP: dispatch dispatch_heap gross failure telemetry uart trap memory timers irq protocols
# (default: all, in one process).
#
# Prints one JSON object: {"interpreter", "version", "quick", "results": {key: value}}.
# Times are ns per operation, each the median of repeated runs; every figure a
# ratio is built from is measured in the same process. cellex_tools/bench.py turns
# this into tables, ratios and targets. MicroPython-compatible: no f-strings,
# no statistics module, no tracemalloc there.
import gc
import json
import sys
import time

from cellex.actor import Actor
from cellex.ask import Call
from cellex.compat import clear_traceback, heap_lock, heap_unlock
from cellex.config import ActorSystemConfig
from cellex.metrics import MetricsSink
from cellex.root_escalation_sink import FailureInfo
from cellex.snapshot import FailureSnapshot, SnapshotPool
from cellex.stash import Stash
from cellex.supervision import ESCALATE, RESTART, RESUME, SupervisorStrategy
from cellex.system import ActorSystem
from cellex.telemetry import NOOP_FAILURE_TELEMETRY, FailureTelemetryObservationConfig
from cellex.telemetry_ring import RingBufferFailureTelemetry
from cellex.telemetry_uart import UartFailureTelemetry
from cellex.wire import FRAME_MAX

MICROPYTHON = sys.implementation.name == "micropython"


try:
    import micropython  # the real module: @micropython.native below compiles to machine code
except ImportError:

    class micropython:  # noqa: N801 - CPython: the decorator leaves the function as it is
        @staticmethod
        def native(fn):
            return fn


if MICROPYTHON and ".frozen" not in sys.path:
    sys.path.append(".frozen")  # MICROPYPATH replaces the default path, which holds the frozen asyncio
try:
    import asyncio
except ImportError:
    asyncio = None

if MICROPYTHON:
    _ticks_us = time.ticks_us
    _ticks_diff = time.ticks_diff

    def _elapsed_ns(fn, n):
        t0 = _ticks_us()
        fn(n)
        return _ticks_diff(_ticks_us(), t0) * 1000

else:
    import tracemalloc

    _perf_ns = time.perf_counter_ns

    def _elapsed_ns(fn, n):
        t0 = _perf_ns()
        fn(n)
        return _perf_ns() - t0


# -- knobs ----------------------------------------------------------------

# Arguments: the command line, or BENCH_ARGS put in this module's globals by a board
# runner (cellex_tools/bench_chip.py): the rp2 port has no sys.argv to set.
ARGS = globals().get("BENCH_ARGS") or sys.argv[1:]
QUICK = "quick" in ARGS
_REPS = 7 if QUICK else 21  # runs per figure; the median is reported
_TARGET_NS = 3000000 if QUICK else 15000000  # aimed length of one run
_TRAP_RAISES = 2000 if QUICK else 10000  # raises in the traceback-trap probe
_BATCH = 8  # messages posted before the scheduler runs (one mailbox full)

RESULTS = {}


def _median(values):
    s = sorted(values)
    n = len(s)
    if n & 1:
        return s[n // 2]
    return (s[n // 2 - 1] + s[n // 2]) / 2


def _calibrate(fn, step=1):
    # Iterations (a multiple of `step`) for one run to last about _TARGET_NS.
    n = step
    while True:
        gc.collect()
        dt = _elapsed_ns(fn, n)
        if dt >= 2000000 or n >= (1 << 22):
            break
        n *= 4
    n = int(n * _TARGET_NS / max(dt, 1))
    n -= n % step
    return max(n, step)


def measure(*pairs):
    """Record the median ns per iteration of each fn(n) (fn runs its own loop of n).

    measure(key, fn) or measure(key1, fn1, key2, fn2, ...): a group is timed
    interleaved (fn1, fn2, fn1, fn2, ...), so the figures a ratio is made of
    share the same moments of machine noise.
    """
    keys = [pairs[i] for i in range(0, len(pairs), 2)]  # MicroPython: no stepped slices
    fns = [pairs[i] for i in range(1, len(pairs), 2)]
    ns = [_calibrate(fn, 8) for fn in fns]  # multiples of 8: batches of 8 fit
    runs = [[] for _ in fns]
    for _ in range(_REPS):
        for j in range(len(fns)):
            gc.collect()
            runs[j].append(_elapsed_ns(fns[j], ns[j]) / ns[j])
    for j in range(len(fns)):
        RESULTS[keys[j]] = round(_median(runs[j]), 1)


# -- actors and helpers ---------------------------------------------------------


class Sink(Actor):
    """receive() does nothing: the bare call of it is the limit of dispatch."""

    def receive(self, msg):
        pass


class Failer(Actor):
    """Raises `error` on every message."""

    def __init__(self, error):
        self.error = error
        self.restarted = 0

    def receive(self, msg):
        raise self.error

    def on_restart(self):
        self.restarted += 1


class StepClock:
    """ticks_ms that moves 2 ms per read, so a 1-restart-per-1-ms limit always allows."""

    def __init__(self):
        self.t = 0

    def ticks_ms(self):
        self.t = (self.t + 2) & 0x3FFFFFFF
        return self.t


class MemWriter:
    """An in-memory UART: takes every byte, like machine.UART.write(buf, n) with room in txbuf."""

    def __init__(self):
        self.frames = 0
        self.last = 0

    def write(self, buf, n=None):
        if n is None:
            n = len(buf)
        self.frames += 1
        self.last = n
        return n


# The typical failure: a built-in exception made once (its traceback is
# cleared by the runtime, so raising it again costs the same each time).
REASON = "read timeout"  # as the wire format's failure_typical vector
PREALLOCATED = OSError(REASON)
TAGS = (("bus", "i2c0"), ("addr", "0x68"))


def _root_system(backend, observation=None):
    # /user/sensors/imu; every supervisor escalates, so the failure reaches the root.
    cfg = ActorSystemConfig(
        max_actors=4, mailbox_capacity=_BATCH, snapshot_slots=2,
        guardian_strategy=SupervisorStrategy(ESCALATE),
    )  # fmt: skip
    if backend is not None:
        cfg.with_failure_telemetry(backend)
    if observation is not None:
        cfg.with_failure_observation_config(observation)
    system = ActorSystem(cfg)
    sup = system.spawn(Actor(), "sensors", supervisor=SupervisorStrategy(ESCALATE))
    imu = system.spawn(Failer(PREALLOCATED), "imu", parent=sup, tags=TAGS)
    system.start()
    return system, sup, imu


def _root_loop(system, sup, imu):
    tell = imu.tell
    run = system.run_until_idle

    def loop(n):
        for _ in range(n):
            # The root stopped the subtree last time: bring it back (two stores).
            sup.state = 0
            imu.state = 0
            tell(1)
            run()

    return loop


def _captured(system, imu, error):
    # A snapshot slot filled as the root fills it, for the direct-call figures.
    info = FailureInfo()
    info.actor = imu
    info.subject = imu.parent
    info.error = error
    info.stage = 2
    info.sequence = 7
    info.timestamp_ms = 123456
    snap = system.root.pool.acquire()
    snap.capture(info)
    return snap


def _one_per_run(system, ref):
    # A turn per message: one tell, then the scheduler runs.
    tell = ref.tell
    run = system.run_until_idle

    def one(n):
        for i in range(n):
            tell(i)
            run()

    return one


def _eight_per_run(system, ref):
    # A mailbox full (_BATCH) per run; the tells written out, so no inner loop is timed.
    tell = ref.tell
    run = system.run_until_idle

    def batch(n):
        for i in range(n // 8):
            tell(i)
            tell(i)
            tell(i)
            tell(i)
            tell(i)
            tell(i)
            tell(i)
            tell(i)
            run()

    return batch


# -- 1. dispatch --------------------------------------------------------------


def bench_dispatch(suffix=""):
    actor = Sink()
    system = ActorSystem(ActorSystemConfig(max_actors=4, mailbox_capacity=_BATCH))
    ref = system.spawn(actor, "sink")
    system.start()

    def bare(n):
        a = actor
        for i in range(n):
            a.receive(i)

    def check():
        if ref.dead_letters or ref.delivered < 8:
            raise RuntimeError("dispatch bench lost messages")

    CHECKS.append(check)
    one, batch = _one_per_run(system, ref), _eight_per_run(system, ref)
    return ["bare_call" + suffix, bare, "dispatch_1" + suffix, one, "dispatch_8" + suffix, batch]


class Forward(Actor):
    """Passes every message on to the next actor: the pipeline shape."""

    def __init__(self, to):
        self.to = to.tell

    def receive(self, msg):
        self.to(msg)


def bench_pipeline(suffix=""):
    # Three actors: first -> mid -> last (a Sink); per message posted to the first.
    system = ActorSystem(ActorSystemConfig(max_actors=4, mailbox_capacity=_BATCH))
    last = system.spawn(Sink(), "last")
    mid = system.spawn(Forward(last), "mid")
    first = system.spawn(Forward(mid), "first")
    system.start()

    def check():
        if last.delivered < 8 or first.dead_letters or mid.dead_letters or last.dead_letters:
            raise RuntimeError("pipeline bench lost messages")

    CHECKS.append(check)
    return ["pipeline" + suffix, _one_per_run(system, first)]


# -- the floor: a hand-written ring dispatcher ----------------------------------
# What a firmware developer writes instead of an actor runtime: one ring of
# (handler, message) pairs, no supervision, no counters. Plain bytecode and
# the same code compiled @micropython.native.


class RingPlain:
    def __init__(self, cap):
        self.fns = [None] * cap
        self.msgs = [None] * cap
        self.cap = cap
        self.head = 0
        self.n = 0

    def post(self, fn, msg):
        n = self.n
        if n == self.cap:
            return False
        i = self.head + n
        if i >= self.cap:
            i -= self.cap
        self.fns[i] = fn
        self.msgs[i] = msg
        self.n = n + 1
        return True

    def run(self):
        fns = self.fns
        msgs = self.msgs
        cap = self.cap
        done = 0
        while self.n:
            h = self.head
            fn = fns[h]
            msg = msgs[h]
            fns[h] = None
            msgs[h] = None
            h += 1
            self.head = 0 if h == cap else h
            self.n -= 1
            fn(msg)
            done += 1
        return done


class RingNative(RingPlain):
    @micropython.native
    def post(self, fn, msg):
        n = self.n
        if n == self.cap:
            return False
        i = self.head + n
        if i >= self.cap:
            i -= self.cap
        self.fns[i] = fn
        self.msgs[i] = msg
        self.n = n + 1
        return True

    @micropython.native
    def run(self):
        fns = self.fns
        msgs = self.msgs
        cap = self.cap
        done = 0
        while self.n:
            h = self.head
            fn = fns[h]
            msg = msgs[h]
            fns[h] = None
            msgs[h] = None
            h += 1
            self.head = 0 if h == cap else h
            self.n -= 1
            fn(msg)
            done += 1
        return done


def bench_ring(cls, key, suffix=""):
    ring = cls(_BATCH * 2)
    post = ring.post
    run = ring.run
    sink = Sink()
    recv = sink.receive

    class Fwd:
        def __init__(self, to):
            self.to = to

        def receive(self, msg):
            post(self.to, msg)

    recv_mid = Fwd(recv).receive
    recv_first = Fwd(recv_mid).receive

    def one(n):
        for i in range(n):
            post(recv, i)
            run()

    def batch(n):
        for i in range(n // 8):
            post(recv, i)
            post(recv, i)
            post(recv, i)
            post(recv, i)
            post(recv, i)
            post(recv, i)
            post(recv, i)
            post(recv, i)
            run()

    def pipeline(n):
        for i in range(n):
            post(recv_first, i)
            run()

    return [key + "_1" + suffix, one, key + "_8" + suffix, batch, key + "_pipeline" + suffix, pipeline]


# -- gross allocation per call ---------------------------------------------------
# gc.threshold(0) makes any allocation run a collection, which frees garbage
# planted before the call: gc.mem_alloc() moves even when the block was given
# back before the call returned. GROSS_PEAK, sampled inside receive() by the
# Gross* actors, gives the size of what was alive at that moment (e.g. a
# caller's frame). CPython: tracemalloc's peak over the call (informative: CPython
# allocates frames' objects and tracebacks on its own).

_GROSS = [False, 0, 0]  # armed, base, peak


def _gross_sample():
    g = _GROSS
    if g[0]:
        d = gc.mem_alloc() - g[1]
        if d > g[2]:
            g[2] = d


class GrossSink(Actor):
    def receive(self, msg):
        if MICROPYTHON:
            _gross_sample()


class GrossFailer(Failer):
    def receive(self, msg):
        if MICROPYTHON:
            _gross_sample()
        raise self.error


class GrossForward(Forward):
    def receive(self, msg):
        if MICROPYTHON:
            _gross_sample()
        self.to(msg)


def _plant_garbage():
    for _ in range(16):
        g = bytearray(40)  # noqa: F841
    return None


def gross(fn):
    """Bytes one call of fn() takes from the heap, gross (0: none, not even given back).

    MicroPython: a string when a block was taken but no sample inside saw it
    (a leaf function's frame). CPython: tracemalloc peak above the start.
    """
    fn()
    fn()
    if not MICROPYTHON:
        tracemalloc.start()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
        return peak
    # 1. trip wire
    old = gc.threshold()
    gc.collect()
    _plant_garbage()
    gc.threshold(0)
    base = gc.mem_alloc()
    fn()
    tripped = gc.mem_alloc() != base
    gc.threshold(old)
    # 2. samples inside, no trip wire
    gc.collect()
    g = _GROSS
    g[1] = gc.mem_alloc()
    g[2] = 0
    g[0] = True
    fn()
    g[0] = False
    peak = g[2]
    if not tripped:
        return 0
    return peak if peak > 0 else "taken (leaf)"


def bench_gross():
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=_BATCH)
    system = ActorSystem(cfg)
    ref = system.spawn(GrossSink(), "sink")
    last = system.spawn(GrossSink(), "last")
    mid = system.spawn(GrossForward(last), "mid")
    first = system.spawn(GrossForward(mid), "first")
    system.start()
    tell = ref.tell
    run = system.run_until_idle
    tell_first = first.tell

    def one():
        tell(1)
        run()

    def batch():
        for _ in range(8):
            tell(1)
        run()

    def pipeline():
        tell_first(1)
        run()

    RESULTS["gross_tell"] = gross(lambda: tell(1))
    run()
    RESULTS["gross_dispatch_1"] = gross(one)
    RESULTS["gross_dispatch_8"] = gross(batch)
    RESULTS["gross_pipeline"] = gross(pipeline)
    # failures: restart in place, and the root through each back-end
    clock = StepClock()
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=_BATCH).with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    strategy = SupervisorStrategy(RESTART, max_restarts=1, within_ms=1)
    sup = system.spawn(Actor(), "sensors", supervisor=strategy)
    imu = system.spawn(GrossFailer(PREALLOCATED), "imu", parent=sup, tags=TAGS)
    system.start()
    tell_imu = imu.tell
    run2 = system.run_until_idle

    def restart():
        tell_imu(1)
        run2()

    RESULTS["gross_restart"] = gross(restart)
    for name, backend in _backends():
        cfg = ActorSystemConfig(
            max_actors=4, mailbox_capacity=_BATCH, snapshot_slots=2,
            guardian_strategy=SupervisorStrategy(ESCALATE),
        ).with_failure_telemetry(backend)  # fmt: skip
        system = ActorSystem(cfg)
        sup = system.spawn(Actor(), "sensors", supervisor=SupervisorStrategy(ESCALATE))
        imu = system.spawn(GrossFailer(PREALLOCATED), "imu", parent=sup, tags=TAGS)
        system.start()
        RESULTS["gross_root_" + name] = gross(_one_root_failure(system, sup, imu))


def _one_root_failure(system, sup, imu):
    tell = imu.tell
    run = system.run_until_idle

    def fail():
        sup.state = 0
        imu.state = 0
        tell(1)
        run()

    return fail


def bench_restart_floor():
    # The limit of a restart in place: call receive(), catch what it raises
    # (clearing the traceback, as the runtime does), call on_restart().
    actor = Failer(PREALLOCATED)

    def floor(n):
        a = actor
        for _ in range(n):
            try:
                a.receive(1)
            except Exception as e:  # noqa: BLE001
                clear_traceback(e)
                a.on_restart()

    return ["restart_floor", floor]


_BALLAST = []


def _populate_heap():
    # What an application's heap holds: many small objects of mixed sizes, 6000
    # groups of them, or on a board as many as fill about half its free heap.
    keep_free = gc.mem_free() // 2 if MICROPYTHON else 0
    for i in range(6000):
        if MICROPYTHON and gc.mem_free() < keep_free:
            break
        _BALLAST.append([i, "item%d" % i, (i, i + 1), bytearray(i % 64)])
    gc.collect()


def _async_actor_class():
    # What a user writes without cellex. CPython: an asyncio.Queue. MicroPython's
    # asyncio has no Queue: a ring of preallocated slots and an Event, the
    # pattern of peterhinch's ringbuf_queue.
    if hasattr(asyncio, "Queue"):

        class AsyncActor:
            kind = "asyncio.Queue"

            def __init__(self, capacity):
                self.queue = asyncio.Queue(capacity)
                self.seen = 0

            def tell(self, msg):
                self.queue.put_nowait(msg)

            def receive(self, msg):
                self.seen += 1

            async def run(self):
                get = self.queue.get
                while True:
                    self.receive(await get())

        return AsyncActor

    class AsyncActor:
        kind = "asyncio.Event + ring"

        def __init__(self, capacity):
            self.buf = [None] * capacity
            self.cap = capacity
            self.head = 0
            self.count = 0
            self.event = asyncio.Event()
            self.seen = 0

        def tell(self, msg):
            n = self.count
            if n == self.cap:
                return False
            i = self.head + n
            if i >= self.cap:
                i -= self.cap
            self.buf[i] = msg
            self.count = n + 1
            self.event.set()
            return True

        def receive(self, msg):
            self.seen += 1

        async def run(self):
            ev = self.event
            buf = self.buf
            while True:
                await ev.wait()
                ev.clear()
                while self.count:
                    h = self.head
                    msg = buf[h]
                    buf[h] = None
                    h += 1
                    self.head = 0 if h == self.cap else h
                    self.count -= 1
                    self.receive(msg)

    return AsyncActor


def bench_asyncio():
    if asyncio is None:
        return []
    cls = _async_actor_class()
    RESULTS["asyncio_kind"] = cls.kind

    def make(batch):
        async def main(n):
            actor = cls(_BATCH)
            task = asyncio.create_task(actor.run())
            await asyncio.sleep(0)
            tell = actor.tell
            sleep = asyncio.sleep
            for i in range(n // batch):
                for _ in range(batch):
                    tell(i)
                await sleep(0)  # let the actor task take its mail
            await sleep(0)
            task.cancel()
            await sleep(0)
            if actor.seen != n - n % batch:
                raise RuntimeError("asyncio actor lost messages: %d of %d" % (actor.seen, n))

        def loop(n):
            asyncio.run(main(n))

        return loop

    def make_pipeline():
        async def main(n):
            last = cls(_BATCH)
            mid = cls(_BATCH)
            first = cls(_BATCH)
            mid.receive = _async_forward(mid, last)
            first.receive = _async_forward(first, mid)
            tasks = [asyncio.create_task(a.run()) for a in (last, mid, first)]
            await asyncio.sleep(0)
            tell = first.tell
            sleep = asyncio.sleep
            for i in range(n):
                tell(i)
                await sleep(0)
            for _ in range(4):
                await sleep(0)
            for t in tasks:
                t.cancel()
            await sleep(0)
            if last.seen != n:
                raise RuntimeError("asyncio pipeline lost messages: %d of %d" % (last.seen, n))

        def loop(n):
            asyncio.run(main(n))

        return loop

    return ["asyncio_1", make(1), "asyncio_8", make(8), "asyncio_pipeline", make_pipeline()]


def _async_forward(actor, to):
    tell = to.tell

    def receive(msg):
        actor.seen += 1
        tell(msg)

    return receive


# -- 2. failure path ---------------------------------------------------------


def bench_raise():
    def fresh(n):
        for _ in range(n):
            try:
                raise OSError(REASON)
            except Exception:  # noqa: BLE001, S110
                pass

    return ["raise_same", bench_raise_only, "raise_fresh", fresh]


def bench_restart():
    clock = StepClock()
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=_BATCH).with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    strategy = SupervisorStrategy(RESTART, max_restarts=1, within_ms=1)
    sup = system.spawn(Actor(), "sensors", supervisor=strategy)
    actor = Failer(PREALLOCATED)
    ref = system.spawn(actor, "imu", parent=sup, tags=TAGS)
    system.start()

    def check():
        if system.counters.root_failures or actor.restarted < 8:
            raise RuntimeError("restart bench did not restart in place")

    CHECKS.append(check)
    return ["failure_restart_1", _one_per_run(system, ref), "failure_restart_8", _eight_per_run(system, ref)]


def _backends():
    return [
        ("noop", NOOP_FAILURE_TELEMETRY),
        ("ring", RingBufferFailureTelemetry(8)),
        ("uart", UartFailureTelemetry(MemWriter())),
    ]


CHECKS = []  # run after the timing: each raises when a bench did not do what it says


def bench_failure_root():
    failures = []
    telemetry = []
    for name, backend in _backends():
        system, sup, imu = _root_system(backend)
        failures += ["failure_root_" + name, _root_loop(system, sup, imu)]

        def check(name=name, c=system.counters):
            if c.telemetry_calls == 0 or c.snapshots_dropped or c.telemetry_errors:
                raise RuntimeError("root bench for %s: telemetry not reached cleanly" % name)

        CHECKS.append(check)
        # 3. telemetry dispatch: through the root as it calls it, vs the back-end directly
        snap = _captured(system, imu, PREALLOCATED)
        dispatch = system.root._dispatch
        direct = backend.on_failure

        def through(n, dispatch=dispatch, snap=snap):
            for _ in range(n):
                dispatch(snap, False)  # a root failure's snapshot (True: a supervised failure)

        def plain(n, direct=direct, snap=snap):
            for _ in range(n):
                direct(snap)

        telemetry += ["telemetry_direct_" + name, plain, "telemetry_system_" + name, through]
    return failures, telemetry


# -- 4. observation ----------------------------------------------------------------


def bench_observation():
    out = []
    for label, obs in (
        ("off", None),
        ("metrics", FailureTelemetryObservationConfig(MetricsSink(), False)),
        ("timing", FailureTelemetryObservationConfig(MetricsSink(), True)),
    ):
        system, sup, imu = _root_system(None, obs)
        out += ["observation_" + label, _root_loop(system, sup, imu)]

        def check(obs=obs):
            if obs is not None and obs.metrics.count[0] == 0:
                raise RuntimeError("observation bench: metrics not recorded")

        CHECKS.append(check)
    return out


# -- 5. memory -----------------------------------------------------------------


if MICROPYTHON:
    RESULTS["memory_method"] = "gc.mem_alloc"

    def _mem_start():
        gc.collect()
        return gc.mem_alloc()

    def _mem_stop(before):
        gc.collect()
        return gc.mem_alloc() - before

else:
    RESULTS["memory_method"] = "tracemalloc"

    def _mem_start():
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    def _mem_stop(before):
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before


def _spawn_cost(count, capacity):
    # Heap taken by spawning `count` actors with `capacity`-slot mailboxes. The
    # user's actor objects and names exist before, so they are not counted;
    # what spawn adds to them (ref, system) is.
    actors = [Sink() for _ in range(count)]
    names = ["a%d" % i for i in range(count)]
    system = ActorSystem(ActorSystemConfig(max_actors=count, mailbox_capacity=capacity))
    spawn = system.spawn
    before = _mem_start()
    for i in range(count):
        spawn(actors[i], names[i])
    return _mem_stop(before)


def _demo_system():
    ring = RingBufferFailureTelemetry(8)
    system = ActorSystem(
        ActorSystemConfig(max_actors=6, mailbox_capacity=8, snapshot_slots=2).with_failure_telemetry(ring)
    )
    sensors = system.spawn(Actor(), "sensors", supervisor=SupervisorStrategy(RESTART, max_restarts=3))
    system.spawn(Sink(), "imu", parent=sensors, component="imu", tags=TAGS)
    system.spawn(Sink(), "baro", parent=sensors, component="baro")
    comms = system.spawn(Actor(), "comms")
    system.spawn(Sink(), "radio", parent=comms, transport="spi")
    system.spawn(Sink(), "logger")
    system.start()
    return system


def _steady(fn, n):
    # Bytes the heap grew by while fn(n) ran, garbage included (no collection in between).
    gc.collect()
    gc.disable()
    try:
        if MICROPYTHON:
            before = gc.mem_alloc()
            fn(n)
            return gc.mem_alloc() - before
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn(n)
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        gc.enable()


def _locked_ok(fn, n):
    # True when fn(n) runs with the heap locked (MicroPython); None on CPython.
    if not MICROPYTHON:
        return None
    gc.collect()
    heap_lock()
    try:
        fn(n)
        ok = True
    except MemoryError:
        ok = False
    heap_unlock()
    return ok


def bench_memory():
    if not MICROPYTHON:
        tracemalloc.start()
    try:
        n = 16
        small = _spawn_cost(n, 1)
        big = _spawn_cost(n, 9)
        slot = (big - small) / (n * 8)
        RESULTS["mem_per_mailbox_slot"] = round(slot, 1)
        RESULTS["mem_per_actor"] = round(small / n - slot, 1)
        # per snapshot slot: pool of 9 minus pool of 1, over 8
        b = _mem_start()
        p1 = SnapshotPool(1)
        m1 = _mem_stop(b)
        b = _mem_start()
        p9 = SnapshotPool(9)
        m9 = _mem_stop(b)
        RESULTS["mem_per_snapshot_slot"] = round((m9 - m1) / 8, 1)
        del p1, p9
        b = _mem_start()
        demo = _demo_system()
        RESULTS["mem_demo_system"] = _mem_stop(b)
        # Steady state: the message path and the failure paths, after start.
        refs = demo.actors()
        imu = refs[1]
        tell = imu.tell
        run = demo.run_until_idle

        def messages(n):
            for i in range(n // 8):
                for _ in range(8):
                    tell(i)
                run()

        messages(64)
        RESULTS["alloc_steady_messages"] = _steady(messages, 8000)
        RESULTS["heap_locked_messages"] = _locked_ok(messages, 800)
        system, sup, imu2 = _root_system(RingBufferFailureTelemetry(8))
        fail = _root_loop(system, sup, imu2)
        fail(16)
        raised = _steady(bench_raise_only, 1000)
        RESULTS["alloc_steady_failures"] = _steady(fail, 1000)
        RESULTS["alloc_raise_only"] = raised
        RESULTS["heap_locked_failures"] = _locked_ok(fail, 200)
        system, sup, imu3 = _root_system(UartFailureTelemetry(MemWriter()))
        fail = _root_loop(system, sup, imu3)
        fail(16)
        RESULTS["alloc_steady_failures_uart"] = _steady(fail, 1000)
        RESULTS["heap_locked_failures_uart"] = _locked_ok(fail, 200)
    finally:
        if not MICROPYTHON:
            tracemalloc.stop()


def bench_raise_only(n):
    """Raise and catch one preallocated instance n times.

    Caught and cleared as the runtime does: re-raising one instance otherwise
    grows its traceback (see bench_traceback_trap).
    """
    e0 = PREALLOCATED
    for _ in range(n):
        try:
            raise e0
        except Exception as e:  # noqa: BLE001
            clear_traceback(e)


# -- 6. UART capacity ---------------------------------------------------------------


def _worst_snapshot():
    # Every field at or past its wire limit (docs/wire-format.md), description != reason.
    s = FailureSnapshot()
    s.sequence = 0x3FFFFFFF
    s.timestamp_ms = 0x3FFFFFFF
    s.actor_id = 0x3FFFFFFF
    s.path = tuple("segment%02d_xxxxxxxxxxxxxxxxxxxx" % i for i in range(10))
    s.error_type = "VeryLongApplicationSpecificErrorTypeName"
    s.reason = "r" * 64
    s.set_description("d" * 64)
    s.component = "c" * 30
    s.endpoint = "e" * 30
    s.transport = "t" * 30
    s.stage = 20
    for i in range(6):
        s.add_tag("k%d_xxxxxxxxxxxxxxxx" % i, "v%d_xxxxxxxxxxxxxxxxxxxxxxxxxx" % i)
    return s


def bench_uart():
    writer = MemWriter()
    backend = UartFailureTelemetry(writer)
    system, sup, imu = _root_system(backend)
    _root_loop(system, sup, imu)(3)  # the first frame carries a sync byte and the start flag
    RESULTS["uart_frame_typical"] = writer.last
    snap = _captured(system, imu, PREALLOCATED)
    worst = _worst_snapshot()
    on_failure = backend.on_failure

    def typical(n):
        for _ in range(n):
            on_failure(snap)

    def worst_case(n):
        for _ in range(n):
            on_failure(worst)

    measure("uart_encode_typical", typical, "uart_encode_worst", worst_case)
    on_failure(worst)
    RESULTS["uart_frame_worst"] = writer.last
    RESULTS["uart_frame_max"] = FRAME_MAX
    system.root.pool.release(snap)


# -- traceback trap -------------------------------------------------------------------


class UserError(Exception):
    pass


def _trap(key, make_error, fresh):
    # RESUME, the cheapest supervision: what is left is the raise itself.
    system = ActorSystem(ActorSystemConfig(max_actors=2, guardian_strategy=SupervisorStrategy(RESUME)))
    if fresh:

        class Raiser(Actor):
            def receive(self, msg):
                raise make_error()

        actor = Raiser()
    else:
        actor = Failer(make_error())
    ref = system.spawn(actor, "flaky")
    system.start()
    tell = ref.tell
    run = system.run_until_idle
    block = _TRAP_RAISES // 4

    def loop(n):
        for _ in range(n):
            tell(1)
            run()

    gc.collect()
    before = _mem_start() if MICROPYTHON else 0
    times = []
    for _ in range(4):
        times.append(_elapsed_ns(loop, block) / block)
    grown = _mem_stop(before) if MICROPYTHON else None
    RESULTS[key + "_first_ns"] = round(times[0], 1)
    RESULTS[key + "_last_ns"] = round(times[-1], 1)
    RESULTS[key + "_bytes_per_raise"] = None if grown is None else round(grown / (4 * block), 1)


def bench_traceback_trap():
    RESULTS["trap_raises"] = _TRAP_RAISES
    _trap("trap_user_preallocated", lambda: UserError(REASON), False)
    _trap("trap_builtin_preallocated", lambda: OSError(REASON), False)
    _trap("trap_fresh", lambda: UserError(REASON), True)


# -- 7. timers, posts from interrupts -------------------------------------------------


class ManualClock:
    """ticks_ms the bench moves by hand (t)."""

    def __init__(self):
        self.t = 0

    def ticks_ms(self):
        return self.t


def _timer_system(actors, timers_armed, slots=32, manual=False):
    # manual: a clock the bench moves (timer fires); else the real ticks_ms.
    clock = ManualClock()
    cfg = ActorSystemConfig(max_actors=actors, mailbox_capacity=_BATCH, timer_slots=slots)
    if manual:
        cfg.with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    refs = [system.spawn(Sink(), "a%d" % i) for i in range(actors)]
    system.start()
    for i in range(timers_armed):
        system.send_every(refs[i % actors], i, 1 << 27)  # far away: armed, never due here
    return system, refs, clock


def _fire_per_run(system, ref, clock):
    system.send_every(ref, 1, 1)
    run = system.run_until_idle

    def fire(n):
        c = clock
        for _ in range(n):
            c.t = (c.t + 1) & 0x3FFFFFFF
            run()

    return fire


def bench_timers():
    shapes = []
    # Turn time (tell + run_until_idle, one message) vs timers armed, and vs actors.
    for k in (0, 1, 8, 32):
        system, refs, _ = _timer_system(4, k)
        shapes += ["turn_timers_%d" % k, _one_per_run(system, refs[0])]
    # Many actors: 64, or 32 on a board, where two such systems alive at once (both
    # shapes are measured side by side) do not fit a Pico's heap.
    many = 32 if sys.platform not in ("linux", "darwin", "win32") else 64
    system, refs, _ = _timer_system(many, 8)
    shapes += ["turn_actors_64_timers_8", _one_per_run(system, refs[many - 1])]
    # A periodic timer firing once per run: fire + the dispatch of its message.
    system, refs, clock = _timer_system(4, 0, manual=True)
    shapes += ["timer_fire_4", _fire_per_run(system, refs[0], clock)]
    system, refs, clock = _timer_system(many, 8, manual=True)
    shapes += ["timer_fire_64_timers_8", _fire_per_run(system, refs[many - 1], clock)]
    # post() (the interrupt-safe way in) + run_until_idle: post -> drain -> receive.
    system, refs, _ = _timer_system(4, 0)
    post = system.post
    ref = refs[0]
    run = system.run_until_idle

    def posted(n):
        for i in range(n):
            post(ref, i)
            run()

    shapes += ["post_1", posted]
    # The floor of a timer fire's dispatch: the same manual clock, a tell per step.
    system, refs, clock = _timer_system(4, 1, manual=True)
    tell = refs[0].tell
    run2 = system.run_until_idle

    def stepped_tell(n):
        c = clock
        for i in range(n):
            c.t = (c.t + 1) & 0x3FFFFFFF
            tell(i)
            run2()

    shapes += ["turn_manual_clock", stepped_tell]
    measure(*shapes)


class _Latency(Actor):
    """Receives posts from a hard timer interrupt; keeps how long each took to arrive."""

    def __init__(self, stamp, count):
        self.stamp = stamp  # [ticks_us when the interrupt posted]
        self.count = count
        self.n = 0
        self.total = 0
        self.max = 0

    def receive(self, msg):
        d = _ticks_diff(_ticks_us(), self.stamp[0])
        self.total += d
        if d > self.max:
            self.max = d
        self.n += 1
        if self.n == self.count:
            self.system.stop()


def bench_irq():
    # A real hard interrupt (machine.Timer(hard=True), every 10 ms) posts to an actor
    # while the system sleeps in run_forever(): the latency to receive() and the idle
    # share. Boards only: the unix port has no hard timer interrupts.
    try:
        from machine import Timer
    except ImportError:
        return
    if not hasattr(Timer, "PERIODIC"):
        return
    stamp = [0]
    system = ActorSystem(ActorSystemConfig(max_actors=2))
    latency = _Latency(stamp, 20 if QUICK else 100)
    ref = system.spawn(latency, "latency")
    system.start()
    post = system.post

    def isr(timer):
        stamp[0] = _ticks_us()
        post(ref, 1)

    timer = Timer(mode=Timer.PERIODIC, period=10, callback=isr, hard=True)
    try:
        system.run_forever()
    finally:
        timer.deinit()
    RESULTS["irq_to_receive_mean"] = latency.total * 1000 // latency.n
    RESULTS["irq_to_receive_max"] = latency.max * 1000
    RESULTS["irq_idle_share"] = system.counters.idle_ms / system.counters.loop_ms


# -- 8. protocols: request/reply, publish/subscribe, dead letters, deferral ---------------


class Server(Actor):
    """Answers a request Call at once with body + 1."""

    def receive(self, call):
        if MICROPYTHON:
            _gross_sample()
        call.reply(call.body + 1)


class TellServer(Actor):
    """The same answer with a plain tell back: the round trip as two tells."""

    def __init__(self):
        self.to = None

    def receive(self, msg):
        self.to(msg + 1)


class Asker(GrossSink):
    """Takes the answer (the Call back, or the plain reply)."""

    def __init__(self):
        self.call = Call(self)


def _protocol_system(clock=None, actors=12):
    cfg = ActorSystemConfig(max_actors=actors, mailbox_capacity=_BATCH, ask_slots=4)
    if clock is not None:
        cfg.with_clock(clock.ticks_ms)
    return ActorSystem(cfg)


def _timeout_system():
    # An asker and an actor that never answers, on a clock the bench moves: every ask times out.
    clock = ManualClock()
    system = _protocol_system(clock)
    silent = system.spawn(Sink(), "silent")
    asker = Asker()
    system.spawn(asker, "asker")
    system.start()
    return system, clock, silent, asker.call


def bench_request_reply():
    system = _protocol_system()
    server = system.spawn(Server(), "server")
    asker = Asker()
    asker_ref = system.spawn(asker, "asker")
    tell_server = TellServer()
    tell_server_ref = system.spawn(tell_server, "tell_server")
    tell_server.to = asker_ref.tell
    system.start()
    ask = system.ask
    run = system.run_until_idle
    call = asker.call

    def asked(n):
        for _ in range(n):
            ask(server, call, 1, 1000)
            run()

    # The asker waits out the timeout: ask, the deadline passes, the Call comes back.
    system2, clock, silent, call2 = _timeout_system()
    ask2 = system2.ask
    run2 = system2.run_until_idle

    def timed_out(n):
        c = clock
        for _ in range(n):
            ask2(silent, call2, 1, 1)
            run2()
            c.t = (c.t + 1) & 0x3FFFFFFF
            run2()

    def check():
        if system.counters.ask_timeouts or system.dead_letters.count or asker_ref.delivered < 8:
            raise RuntimeError("request/reply bench lost answers")
        if system2.counters.replies or system2.counters.ask_timeouts < 8:
            raise RuntimeError("request/reply timeout bench did not time out")

    CHECKS.append(check)
    two_tells = _one_per_run(system, tell_server_ref)  # the round trip as two tells
    shapes = ["rr_tells", two_tells, "rr_ask", asked, "rr_timeout", timed_out]
    return shapes + bench_request_reply_asyncio()


def bench_request_reply_asyncio():
    # What a user writes without cellex: a server task and a request whose answer the
    # asker awaits with a timeout (asyncio.wait_for; MicroPython: wait_for_ms).
    if asyncio is None:
        return []
    cls = _async_actor_class()

    class Request:
        def __init__(self):
            self.event = asyncio.Event()
            self.value = None

    def serve(req):
        req.value = 1
        req.event.set()

    async def main(n):
        server = cls(_BATCH)
        server.receive = serve
        task = asyncio.create_task(server.run())
        await asyncio.sleep(0)
        req = Request()
        wait = req.event.wait
        tell = server.tell
        if hasattr(asyncio, "wait_for_ms"):
            wait_for = asyncio.wait_for_ms
            timeout = 1000
        else:
            wait_for = asyncio.wait_for
            timeout = 1.0
        for _ in range(n):
            req.event.clear()
            tell(req)
            await wait_for(wait(), timeout)
        task.cancel()
        await asyncio.sleep(0)

    def loop(n):
        asyncio.run(main(n))

    return ["rr_asyncio", loop]


def bench_publish():
    shapes = []
    system = _protocol_system()
    sinks = [system.spawn(Sink(), "s%d" % i) for i in range(8)]
    topics = {}
    for k in (1, 4, 8):
        topics[k] = system.topic("t%d" % k, k)
        for ref in sinks[:k]:
            topics[k].subscribe(ref)
    system.start()
    run = system.run_until_idle
    for k in (1, 4, 8):
        shapes += ["publish_%d" % k, _publish_per_run(topics[k].publish, run)]
    tells = [ref.tell for ref in sinks]

    def by_hand(n):
        t0, t1, t2, t3, t4, t5, t6, t7 = tells
        for i in range(n):
            t0(i)
            t1(i)
            t2(i)
            t3(i)
            t4(i)
            t5(i)
            t6(i)
            t7(i)
            run()

    def check():
        if system.dead_letters.count or sinks[7].delivered < 8:
            raise RuntimeError("publish bench lost messages")

    CHECKS.append(check)
    return shapes + ["tells_8", by_hand]


def _publish_per_run(publish, run):
    def published(n):
        for i in range(n):
            publish(i)
            run()

    return published


def bench_dead_letters():
    system = _protocol_system()
    full = system.spawn(Sink(), "full", mailbox_capacity=1)
    system.start()
    tell = full.tell
    tell(0)  # full from here on

    def counted(n):
        for i in range(n):
            tell(i)

    system2 = _protocol_system()
    full2 = system2.spawn(Sink(), "full", mailbox_capacity=1)
    system2.start()
    seen = [0]

    def hook(to, msg, reason):
        seen[0] += 1

    system2.dead_letters.watch(hook, 1 << 20, 1 << 20)
    tell2 = full2.tell
    tell2(0)

    def watched(n):
        for i in range(n):
            tell2(i)

    return ["dead_letter", counted, "dead_letter_watched", watched]


def bench_protocols_gross():
    system = _protocol_system()
    server = system.spawn(Server(), "server")
    asker = Asker()
    system.spawn(asker, "asker")
    subs = [system.spawn(GrossSink(), "s%d" % i) for i in range(8)]
    topic = system.topic("readings", 8)
    for ref in subs:
        topic.subscribe(ref)
    full = system.spawn(Sink(), "full", mailbox_capacity=1)
    system.start()
    system.dead_letters.watch(lambda to, msg, reason: _gross_sample() if MICROPYTHON else None, 1 << 20, 1)
    ask = system.ask
    run = system.run_until_idle
    call = asker.call
    publish = topic.publish
    tell_full = full.tell
    tell_full(0)
    stash = Stash(2)
    defer = stash.defer
    recall_all = stash.recall_all
    ref = subs[0]

    def asked():
        ask(server, call, 1, 1000)
        run()

    def published():
        publish(1)
        run()

    def deferred():
        defer(1)
        defer(2)
        recall_all(ref)
        run()

    RESULTS["gross_ask"] = gross(asked)
    RESULTS["gross_publish_8"] = gross(published)
    RESULTS["gross_dead_letter"] = gross(lambda: tell_full(1))
    RESULTS["gross_stash"] = gross(deferred)
    system2, clock, silent, call2 = _timeout_system()
    ask2 = system2.ask
    run2 = system2.run_until_idle

    def timed_out():
        ask2(silent, call2, 1, 1)
        run2()
        clock.t += 1
        run2()

    RESULTS["gross_ask_timeout"] = gross(timed_out)


def _group_protocols():
    measure(*(bench_request_reply() + bench_publish() + bench_dead_letters()))
    bench_protocols_gross()


# -- main -----------------------------------------------------------------------------


def _group_dispatch():
    measure(
        *(
            bench_dispatch()
            + bench_pipeline()
            + bench_ring(RingPlain, "ring")
            + bench_ring(RingNative, "ring_native")
            + bench_asyncio()
        )
    )


def _group_dispatch_heap():
    # The same shapes in a process whose heap holds an application's objects:
    # a function that takes a heap frame pays for the search of a free block.
    _populate_heap()
    RESULTS["heap_ballast_bytes"] = gc.mem_alloc() if MICROPYTHON else None
    shapes = bench_dispatch("_heap") + bench_pipeline("_heap")
    shapes += bench_ring(RingNative, "ring_native", "_heap")
    measure(*shapes)


def _group_gross():
    bench_gross()


def _group_failure():
    failures, _ = bench_failure_root()
    measure(*(bench_raise() + bench_restart_floor() + bench_restart() + failures + bench_observation()))


def _group_telemetry():
    _, telemetry = bench_failure_root()
    measure(*telemetry)


# Each group is timed interleaved (the figures compared with each other are
# measured side by side). cellex_tools/bench.py runs each group in a fresh process:
# on MicroPython the cost of an attribute lookup depends on what else is on
# the heap (the global map-lookup cache), so a clean process per group keeps
# the figures comparable between runs and commits.
GROUPS = {
    "dispatch": _group_dispatch,
    "dispatch_heap": _group_dispatch_heap,
    "gross": _group_gross,
    "failure": _group_failure,
    "telemetry": _group_telemetry,
    "uart": bench_uart,
    "timers": bench_timers,
    "irq": bench_irq,
    "protocols": _group_protocols,
    "trap": bench_traceback_trap,
    "memory": bench_memory,
}


def main():
    RESULTS["interpreter"] = sys.implementation.name
    RESULTS["version"] = sys.version
    RESULTS["platform"] = sys.platform
    chosen = [a for a in ARGS if a in GROUPS] or list(GROUPS)
    for name in chosen:
        GROUPS[name]()
    for check in CHECKS:
        check()
    print(json.dumps({"quick": QUICK, "groups": chosen, "results": RESULTS}))


if __name__ == "__main__":
    main()
