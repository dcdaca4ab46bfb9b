# Failure telemetry at the root: snapshots, back-ends, injection, observation, failure isolation.
import support
from actors import BOOM, FAIL, Boom, Counter, Recorder
from cellex.actor_ref import STOPPED
from cellex.config import ActorSystemConfig
from cellex.metrics import BUCKET_BOUNDS_US, TELEMETRY_INVOKED, MetricsSink
from cellex.root_escalation_sink import ROOT_RESET
from cellex.snapshot import DESCRIPTION_CAPACITY, MAX_FAILURE_SNAPSHOT_TAGS, TaggedError
from cellex.supervision import ESCALATE, SupervisorStrategy
from cellex.system import ActorSystem
from cellex.telemetry import (
    NOOP_FAILURE_TELEMETRY,
    FailureTelemetry,
    FailureTelemetryObservationConfig,
    NoopFailureTelemetry,
    default_failure_telemetry,
)
from cellex.telemetry_fanout import FanOutFailureTelemetry
from cellex.telemetry_ring import RingBufferFailureTelemetry
from cellex.telemetry_uart import UartFailureTelemetry
from support import assert_no_alloc, heap_growth

_ESCALATE = SupervisorStrategy(ESCALATE)


class Capture(FailureTelemetry):
    """Copies what it is given (allocates: not for no-allocation tests)."""

    def __init__(self, log=None):
        self.records = []
        self.log = log

    def on_failure(self, s):
        self.records.append(
            {
                "sequence": s.sequence,
                "actor_id": s.actor_id,
                "path": s.path,
                "error_type": s.error_type,
                "reason": s.reason,
                "description": s.description,
                "truncated": s.description_truncated,
                "meta": (s.component, s.endpoint, s.transport),
                "tags": s.tags(),
                "tags_dropped": s.tags_dropped,
                "stage": s.stage,
            }
        )
        if self.log is not None:
            self.log.append("telemetry")


class Raising(FailureTelemetry):
    def on_failure(self, s):
        raise BOOM


def _system(cfg=None, depth=2, **leaf):
    """Top-level a0 <- ... <- a{depth-1}; everything escalates to the root."""
    cfg = cfg or ActorSystemConfig(max_actors=8)
    cfg.with_guardian_strategy(_ESCALATE)
    system = ActorSystem(cfg)
    parent = None
    for i in range(depth):
        kw = leaf if i == depth - 1 else {}
        parent = system.spawn(Recorder(), "a%d" % i, parent=parent, supervisor=_ESCALATE, **kw)
    system.start()
    return system, parent


def _fail(system, ref, error=FAIL):
    ref.tell(error)
    system.run_until_idle()


def test_no_configured_back_end_means_the_shared_noop():
    system, leaf = _system()
    assert system.root.telemetry is NOOP_FAILURE_TELEMETRY
    assert default_failure_telemetry() is NOOP_FAILURE_TELEMETRY
    assert isinstance(NOOP_FAILURE_TELEMETRY, NoopFailureTelemetry)
    _fail(system, leaf)
    assert system.counters.telemetry_calls == 1


def test_telemetry_is_called_exactly_once_per_failure_after_handler_and_listener():
    log = []
    cap = Capture(log)
    cfg = ActorSystemConfig(max_actors=8).with_failure_telemetry(cap)
    cfg.with_event_handler(lambda info: log.append("handler"))
    cfg.with_event_listener(lambda info: log.append("listener"))
    system, leaf = _system(cfg)
    _fail(system, leaf)
    assert log == ["handler", "listener", "telemetry"]
    assert len(cap.records) == 1


def test_the_snapshot_carries_every_field_of_the_failure():
    cap = Capture()
    cfg = ActorSystemConfig(max_actors=8).with_failure_telemetry(cap)
    system, leaf = _system(
        cfg, depth=3, component="imu", endpoint="i2c0:0x68", transport="i2c", tags=(("rev", "b"),)
    )
    _fail(system, leaf, Boom("read timeout"))
    r = cap.records[0]
    assert r["sequence"] == 0
    assert r["actor_id"] == leaf.id
    assert r["path"] == ("user", "a0", "a1", "a2")
    assert r["error_type"] == "Boom"
    assert r["reason"] == "read timeout"
    assert r["description"] == "read timeout"
    assert r["truncated"] is False
    assert r["meta"] == ("imu", "i2c0:0x68", "i2c")
    assert r["tags"] == [("rev", "b")]
    assert r["stage"] == 3


def test_the_description_is_truncated_at_its_capacity_and_says_so():
    cap = Capture()
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry(cap))
    long_reason = "x" * (DESCRIPTION_CAPACITY + 10)
    _fail(system, leaf, Boom(long_reason))
    r = cap.records[0]
    assert r["description"] == long_reason[:DESCRIPTION_CAPACITY]
    assert r["truncated"] is True
    assert r["reason"] == long_reason


def test_an_exception_without_a_text_reason_gives_an_empty_description():
    cap = Capture()
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry(cap))
    _fail(system, leaf, OSError(110))
    assert cap.records[0]["error_type"] == "OSError"
    assert cap.records[0]["description"] == ""


class Tagged(TaggedError):
    pass


def test_tags_keep_spawn_tags_first_then_the_failures_own_and_count_the_overflow():
    cap = Capture()
    cfg = ActorSystemConfig(max_actors=8).with_failure_telemetry(cap)
    system, leaf = _system(cfg, tags=(("k1", "v1"), ("k2", "v2"), ("k3", "v3")))
    err = Tagged("tagged")
    err.telemetry_tags = (("bus", "i2c0"), ("try", "3"))
    _fail(system, leaf, err)
    r = cap.records[0]
    assert r["tags"] == [("k1", "v1"), ("k2", "v2"), ("k3", "v3"), ("bus", "i2c0")]
    assert len(r["tags"]) == MAX_FAILURE_SNAPSHOT_TAGS
    assert r["tags_dropped"] == 1


def test_a_reused_snapshot_slot_carries_nothing_over_from_the_last_failure():
    cap = Capture()
    cfg = ActorSystemConfig(max_actors=8, snapshot_slots=1).with_failure_telemetry(cap)
    system, leaf = _system(cfg, depth=1)
    first = Tagged("x" * (DESCRIPTION_CAPACITY + 1))
    first.telemetry_tags = (("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5"))
    _fail(system, leaf, first)
    leaf.state = 0
    _fail(system, leaf, OSError(5))
    second = cap.records[1]
    assert (second["tags"], second["tags_dropped"]) == ([], 0)
    assert (second["description"], second["truncated"]) == ("", False)
    assert second["error_type"] == "OSError"


def test_sequence_numbers_count_every_failure_at_the_root():
    cap = Capture()
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry(cap), depth=1)
    for _ in range(3):
        leaf.state = 0  # the root stopped it; bring it back
        _fail(system, leaf)
    assert [r["sequence"] for r in cap.records] == [0, 1, 2]


def test_a_raising_back_end_is_counted_and_supervision_goes_on():
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry(Raising()))
    _fail(system, leaf)
    assert system.counters.telemetry_errors == 1
    assert leaf.state == STOPPED


def test_a_full_snapshot_pool_is_counted_and_supervision_goes_on():
    cap = Capture()
    cfg = ActorSystemConfig(max_actors=8, snapshot_slots=1).with_failure_telemetry(cap)
    system, leaf = _system(cfg)
    held = system.root.pool.acquire()  # the only slot is taken
    _fail(system, leaf)
    assert system.counters.snapshots_dropped == 1
    assert cap.records == []
    assert leaf.state == STOPPED
    system.root.pool.release(held)


def test_a_failure_while_telemetry_runs_gets_its_own_slot():
    records = []
    box = []

    class Reentrant(FailureTelemetry):
        def on_failure(self, s):
            records.append((s.sequence, str(s.path[-1])))
            if len(records) == 1:
                system = box[0]
                other = system.lookup("/user/other")
                other.tell(FAIL)
                system.run_once()

    cfg = ActorSystemConfig(max_actors=8, snapshot_slots=2).with_failure_telemetry(Reentrant())
    cfg.with_guardian_strategy(_ESCALATE)
    system = ActorSystem(cfg)
    box.append(system)
    first = system.spawn(Recorder(), "first")
    system.spawn(Recorder(), "other")
    system.start()
    _fail(system, first)
    assert records == [(0, "first"), (1, "other")]
    assert system.root.pool.in_use() == 0


def test_the_builder_is_called_once_at_start_with_the_context():
    seen = []
    uart = object()
    metrics = MetricsSink()

    def build(ctx):
        seen.append((ctx.extensions["uart"], ctx.metrics))
        return Capture()

    cfg = ActorSystemConfig(max_actors=8).with_extension("uart", uart)
    cfg.with_failure_observation_config(FailureTelemetryObservationConfig(metrics))
    cfg.with_failure_telemetry_builder(build)
    system, leaf = _system(cfg)
    system.start()
    assert seen == [(uart, metrics)]
    assert isinstance(system.root.telemetry, Capture)


def test_a_raising_builder_is_counted_and_the_system_starts_with_noop():
    def build(ctx):
        raise BOOM

    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry_builder(build))
    assert system.counters.builder_errors == 1
    assert system.root.builder_error is BOOM
    assert system.root.telemetry is NOOP_FAILURE_TELEMETRY
    _fail(system, leaf)
    assert leaf.state == STOPPED


def test_a_builder_returning_no_back_end_is_counted():
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry_builder(lambda ctx: 42))
    assert system.counters.builder_errors == 1
    assert "on_failure" in system.root.builder_error.args[0]


def test_apply_builder_replaces_the_back_end():
    system, leaf = _system()
    cap = Capture()
    system.root.apply_builder(None, lambda ctx: cap)
    _fail(system, leaf)
    assert len(cap.records) == 1


def test_without_a_metrics_sink_nothing_is_recorded():
    metrics = MetricsSink()
    system, leaf = _system()
    _fail(system, leaf)
    assert metrics.count[TELEMETRY_INVOKED] == 0
    assert system.counters.telemetry_calls == 1


def test_with_a_metrics_sink_each_call_is_counted_untimed():
    metrics = MetricsSink()
    obs = FailureTelemetryObservationConfig(metrics)
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_observation_config(obs), depth=1)
    for _ in range(3):
        leaf.state = 0
        _fail(system, leaf)
    assert metrics.count[TELEMETRY_INVOKED] == 3
    assert metrics.timed[TELEMETRY_INVOKED] == 0


def test_with_capture_timing_each_call_is_timed_into_the_histogram():
    metrics = MetricsSink()
    obs = FailureTelemetryObservationConfig(metrics, capture_timing=True)
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_observation_config(obs), depth=1)
    for _ in range(4):
        leaf.state = 0
        _fail(system, leaf)
    assert metrics.timed[TELEMETRY_INVOKED] == 4
    assert sum(metrics.histogram[: len(BUCKET_BOUNDS_US) + 1]) == 4
    assert metrics.max_us[TELEMETRY_INVOKED] >= 0


def test_observation_can_be_switched_at_run_time():
    metrics = MetricsSink()
    system, leaf = _system(depth=1)
    _fail(system, leaf)
    system.root.observation = FailureTelemetryObservationConfig(metrics, capture_timing=True)
    leaf.state = 0
    _fail(system, leaf)
    assert metrics.count[TELEMETRY_INVOKED] == 1


def test_metrics_sum_durations_without_big_ints_and_bucket_them():
    m = MetricsSink()
    for us in (5, 10, 11, 999, 6000, 1000000000):
        m.record(TELEMETRY_INVOKED, us)
    assert m.total_us(TELEMETRY_INVOKED) == 5 + 10 + 11 + 999 + 6000 + 1000000000
    assert m.max_us[TELEMETRY_INVOKED] == 1000000000
    assert m.histogram[:7] == [2, 1, 0, 0, 1, 0, 2]
    m.reset()
    assert m.count[TELEMETRY_INVOKED] == 0


def test_the_reset_policy_flushes_telemetry_before_resetting():
    log = []

    class Buffered(Capture):
        def flush(self):
            log.append("flush")

    cfg = ActorSystemConfig(max_actors=8).with_failure_telemetry(Buffered(log))
    cfg.with_root_policy(ROOT_RESET, reset=lambda: log.append("reset"))
    system, leaf = _system(cfg)
    _fail(system, leaf)
    assert log == ["telemetry", "flush", "reset"]


def _ring_system(capacity, failures):
    ring = RingBufferFailureTelemetry(capacity)
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry(ring), depth=1)
    for i in range(failures):
        leaf.state = 0
        _fail(system, leaf, Boom("f%d" % i))
    return ring


def test_the_ring_buffer_keeps_the_latest_failures_and_counts_overwrites():
    ring = _ring_system(3, 5)
    assert len(ring) == 3
    assert ring.recorded == 5
    assert ring.overwritten == 2
    assert [ring.newest(i).description for i in range(3)] == ["f4", "f3", "f2"]
    assert [ring.oldest(i).sequence for i in range(3)] == [2, 3, 4]


def test_draining_the_ring_buffer_yields_oldest_first_and_empties_it():
    ring = _ring_system(4, 2)
    got = []
    assert ring.drain(lambda s: got.append(s.description)) == 2
    assert got == ["f0", "f1"]
    assert len(ring) == 0


def test_the_fan_out_reaches_every_back_end_even_past_a_raising_one():
    cap = Capture()
    ring = RingBufferFailureTelemetry(2)
    fan = FanOutFailureTelemetry(Raising(), cap, ring)
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry(fan))
    _fail(system, leaf)
    assert len(cap.records) == 1
    assert len(ring) == 1
    assert fan.errors == 1
    assert system.counters.telemetry_errors == 0


def _no_alloc_failures(telemetry, count=1000):
    metrics = MetricsSink()
    cfg = ActorSystemConfig(max_actors=8).with_failure_telemetry(telemetry)
    cfg.with_failure_observation_config(FailureTelemetryObservationConfig(metrics, capture_timing=True))
    cfg.with_guardian_strategy(_ESCALATE)
    system = ActorSystem(cfg)
    sup = system.spawn(Counter(), "sensors", supervisor=_ESCALATE)
    leaf = system.spawn(Counter(), "imu", parent=sup, component="imu", tags=(("bus", "i2c0"),))
    system.start()

    def failures():
        for _ in range(count):
            sup.state = leaf.state = 0
            leaf.tell(FAIL)
            system.run_until_idle()

    assert_no_alloc(failures)
    assert metrics.timed[TELEMETRY_INVOKED] >= count
    assert system.counters.snapshots_dropped == 0
    return system


def test_the_failure_path_to_noop_with_timing_allocates_nothing():
    _no_alloc_failures(NOOP_FAILURE_TELEMETRY)


def test_the_failure_path_to_the_ring_buffer_allocates_nothing():
    ring = RingBufferFailureTelemetry(4)
    _no_alloc_failures(ring)
    assert ring.newest().path == ("user", "sensors", "imu")
    assert ring.newest().description == "boom"


def test_the_failure_path_through_a_fan_out_allocates_nothing():
    _no_alloc_failures(FanOutFailureTelemetry(RingBufferFailureTelemetry(2), NOOP_FAILURE_TELEMETRY))


class _Wire:
    """An in-memory UART: takes every frame whole, keeps only counts (allocates nothing)."""

    def __init__(self):
        self.frames = 0
        self.bytes = 0

    def write(self, buf, n=-1):
        n = len(buf) if n < 0 else n
        self.frames += 1
        self.bytes += n
        return n


def test_the_failure_path_to_the_uart_back_end_allocates_nothing():
    wire = _Wire()
    uart = UartFailureTelemetry(wire)
    _no_alloc_failures(uart)
    assert uart.frames_dropped == 0
    assert uart.frames_sent >= 1000
    assert wire.bytes >= uart.bytes_sent > 0


class _FullWire:
    """A UART whose transmit buffer is full: takes nothing."""

    def write(self, buf, n=-1):
        return 0


class _BrokenWire:
    def write(self, buf, n=-1):
        raise OSError(5)


def test_a_full_or_raising_uart_leaves_supervision_untouched_and_counts_the_drops():
    for wire in (_FullWire(), _BrokenWire()):
        uart = UartFailureTelemetry(wire)
        system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry(uart))
        _fail(system, leaf)
        assert leaf.state == STOPPED
        assert system.counters.root_failures == 1
        assert system.counters.telemetry_errors == 0  # the back-end swallowed it
        assert uart.frames_dropped == 1
        assert uart.drops_pending == 1


@support.board_budget(300)  # 4,000 root failures: about 100 s on the emulated Pico
def test_the_heap_stays_flat_over_thousands_of_failures_with_every_back_end():
    ring = RingBufferFailureTelemetry(4)
    uart = UartFailureTelemetry(_Wire())
    system = _no_alloc_failures(FanOutFailureTelemetry(ring, uart), count=10)
    leaf = system.lookup("/user/sensors/imu")
    sup = leaf.parent

    def failures():
        for _ in range(2000):
            sup.state = leaf.state = 0
            leaf.tell(FAIL)
            system.run_until_idle()

    failures()
    # MicroPython: gc.mem_alloc() exactly flat; CPython: int boxing moves a few bytes.
    limit = 0 if support.MICROPYTHON else 1024
    assert heap_growth(failures, 1) <= limit
    assert system.counters.root_failures >= 4000


def test_an_untagged_user_exception_adds_no_tags_and_allocates_nothing():
    ring = RingBufferFailureTelemetry(2)
    _no_alloc_failures(ring)  # Counter raises BOOM, a plain Exception subclass
    assert ring.newest().tags() == [("bus", "i2c0")]


def test_tags_set_on_a_tagged_error_class_reach_the_snapshot():
    class Bus(TaggedError):
        telemetry_tags = (("bus", "spi1"),)

    cap = Capture()
    system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry(cap))
    _fail(system, leaf, Bus("nack"))
    assert cap.records[0]["tags"] == [("bus", "spi1")]


def test_bad_back_ends_and_builders_are_refused_at_configuration():
    from support import assert_raises

    cfg = ActorSystemConfig()
    assert "on_failure" in assert_raises(ValueError, cfg.with_failure_telemetry, object()).args[0]
    assert "callable" in assert_raises(ValueError, cfg.with_failure_telemetry_builder, 3).args[0]
    assert "root policy" in assert_raises(ValueError, cfg.with_root_policy, 9).args[0]
    assert "back-end" in assert_raises(ValueError, FanOutFailureTelemetry, object()).args[0]
    assert "capacity" in assert_raises(ValueError, RingBufferFailureTelemetry, 0).args[0]


def test_malformed_telemetry_tags_are_counted_and_supervision_goes_on():
    # Issue 15 item 4: a ValueError from unpacking them escaped run_until_idle().
    class Raises(TaggedError):
        @property
        def telemetry_tags(self):
            raise RuntimeError("no tags")

    shapes = (("bus",), ("bus", "i2c0"), {"bus": "i2c0"}, (("a", "b", "c"),), 5, "kv")
    errors = [Raises("x")]
    for tags in shapes:
        e = TaggedError("x")
        e.telemetry_tags = tags
        errors.append(e)
    for error in errors:
        cap = Capture()
        system, leaf = _system(ActorSystemConfig(max_actors=8).with_failure_telemetry(cap))
        other = system.spawn(Recorder(), "other", dynamic=True)
        _fail(system, leaf, error)
        other.tell(1)
        system.run_until_idle()
        assert leaf.state == STOPPED
        assert other.actor.got == [1]
        assert system.counters.root_failures == 1 and system.counters.telemetry_errors == 0
        assert cap.records[0]["tags"] == [] and cap.records[0]["tags_dropped"] >= 1
        assert cap.records[0]["reason"] == "x"


def test_gross_the_ring_and_the_fan_out_take_no_block():
    from support import assert_no_gross_alloc

    class Writer:
        def write(self, buf, n=-1):
            return n

        def flush(self):
            pass

    snap = _snapshot_for_backends()
    ring = RingBufferFailureTelemetry(3)
    uart = UartFailureTelemetry(Writer())
    fan = FanOutFailureTelemetry(ring, Raising(), uart)

    def fan_out():
        fan.on_failure(snap)
        fan.flush()

    assert_no_gross_alloc(lambda: ring.on_failure(snap))
    assert_no_gross_alloc(fan_out)
    assert fan.errors >= 2 and uart.frames_sent >= 2 and ring.recorded >= 3


def _snapshot_for_backends():
    from cellex.snapshot import FailureSnapshot

    s = FailureSnapshot()
    s.path = ("user", "imu")
    s.error_type = "OSError"
    s.reason = "read timeout"
    s.set_description(s.reason)
    s.add_tag("bus", "i2c0")
    return s
