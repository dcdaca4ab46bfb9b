# No allocation after start: the message and failure paths, gross (heap unlocked:
# no block taken, not even one given back) and with the heap locked under MicroPython.
from actors import FAIL, Counter
from cellex.actor import Actor
from cellex.actor_ref import PAUSED
from cellex.config import ActorSystemConfig
from cellex.metrics import MetricsSink
from cellex.root_escalation_sink import FailureInfo
from cellex.supervision import ESCALATE, RESTART, RESUME, STOP, SupervisorStrategy
from cellex.system import ActorSystem
from cellex.telemetry import FailureTelemetryObservationConfig
from cellex.telemetry_ring import RingBufferFailureTelemetry
from cellex.telemetry_uart import UartFailureTelemetry
from support import (
    GROSS,
    MICROPYTHON,
    FakeClock,
    assert_no_alloc,
    assert_no_gross_alloc,
    assert_raises,
    board_budget,
    gross_alloc,
    heap_growth,
    skip,
)

_MESSAGES = 10000


def _system(guardian=None, clock=None, mailbox=16):
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=mailbox, guardian_strategy=guardian)
    if clock is not None:
        cfg.with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    actor = Counter()
    ref = system.spawn(actor, "counter")
    return system, actor, ref


def test_tell_allocates_nothing():
    system, actor, ref = _system()
    system.start()

    def tell():
        ref.tell(1)
        ref.tell(2)
        system.run_until_idle()

    assert_no_alloc(tell)
    assert actor.seen >= 2


def test_a_dead_letter_allocates_nothing():
    system, actor, ref = _system(mailbox=1)
    system.start()
    ref.tell(1)
    assert_no_alloc(lambda: ref.tell(2))
    assert ref.dead_letters >= 1


def test_dispatching_ten_thousand_messages_allocates_nothing():
    system, actor, ref = _system()
    other = system.spawn(Counter(), "other")
    system.start()

    def pump():
        sent = 0
        while sent < _MESSAGES:
            for _ in range(8):
                ref.tell(1)
                other.tell(1)
            sent += 16
            system.run_until_idle()
        return sent

    assert assert_no_alloc(pump) == _MESSAGES
    assert actor.seen + other.actor.seen >= _MESSAGES


def test_a_failure_that_restarts_the_actor_in_place_allocates_nothing():
    clock = FakeClock()
    system, actor, ref = _system(SupervisorStrategy(RESTART, max_restarts=1, within_ms=10), clock)
    system.start()

    def fail_and_restart():
        for _ in range(100):
            ref.tell(FAIL)
            system.run_until_idle()
            clock.advance(11)

    assert_no_alloc(fail_and_restart)
    assert actor.restarted >= 100
    assert system.counters.root_failures == 0


def test_a_failure_escalated_to_the_root_allocates_nothing():
    system = ActorSystem(ActorSystemConfig(max_actors=4, guardian_strategy=SupervisorStrategy(ESCALATE)))
    sup = system.spawn(Counter(), "sup", supervisor=SupervisorStrategy(ESCALATE))
    leaf = system.spawn(Counter(), "leaf", parent=sup)
    system.start()

    def escalate():
        # The root stops the subtree; bring it back by hand (no allocation) to repeat.
        for _ in range(100):
            sup.state = leaf.state = 0
            leaf.tell(FAIL)
            system.run_until_idle()

    assert_no_alloc(escalate)
    assert system.counters.root_failures >= 100
    assert system.counters.snapshots_dropped == 0


def test_a_restart_with_backoff_allocates_nothing():
    clock = FakeClock()
    strategy = SupervisorStrategy(RESTART, max_restarts=3, within_ms=50, backoff_min_ms=10, backoff_max_ms=40)
    system, actor, ref = _system(strategy, clock)
    system.start()

    def backoff():
        for _ in range(50):
            ref.tell(FAIL)
            ref.tell(1)
            system.run_until_idle()
            while ref.state == PAUSED:
                clock.advance(5)
                system.run_until_idle()
            clock.advance(100)

    assert_no_alloc(backoff)
    assert actor.restarted >= 50


def test_stopping_an_actor_allocates_nothing():
    system, actor, ref = _system(SupervisorStrategy(STOP))
    system.start()

    def stop():
        ref.state = 0
        ref.tell(1)
        ref.tell(FAIL)
        ref.tell(2)
        system.run_until_idle()

    assert_no_alloc(stop)
    assert ref.dead_letters >= 1


_TIMEOUT = OSError(110)  # preallocated built-in exception: its traceback can be cleared


class _RaisesTimeout(Counter):
    def receive(self, msg):
        raise _TIMEOUT


def test_raising_a_preallocated_builtin_exception_again_and_again_does_not_grow_the_heap():
    system = ActorSystem(ActorSystemConfig(max_actors=2, guardian_strategy=SupervisorStrategy(RESUME)))
    ref = system.spawn(_RaisesTimeout(), "flaky")
    system.start()

    def fail_many():
        for _ in range(2000):
            ref.tell(1)
            system.run_until_idle()

    fail_many()
    # Heap unlocked, as on a board: without clearing, each raise adds 24 bytes of traceback.
    assert heap_growth(fail_many, 1) < 512
    assert system.counters.resumes >= 4000


# -- gross: no block taken, not even one given back ------------------------------


# Raised by Probe: a preallocated BUILT-IN exception, whose traceback the
# runtime clears. (A preallocated instance of a user class cannot be cleared
# on MicroPython: each raise from bytecode grows its traceback by one block,
# an allocation of the raising code, not of the runtime.)
_PROBE_ERROR = OSError(5)


class Probe(Counter):
    """A Counter that samples the heap in every callback (GROSS.sample())."""

    def receive(self, msg):
        GROSS.sample()
        if msg is FAIL:
            raise _PROBE_ERROR
        self.seen += 1

    def on_restart(self):
        GROSS.sample()
        self.restarted += 1

    def on_stop(self):
        GROSS.sample()


class ProbeWriter:
    """An in-memory UART that samples the heap when a frame is written."""

    def __init__(self):
        self.frames = 0

    def write(self, buf, n=None):
        GROSS.sample()
        self.frames += 1
        return len(buf) if n is None else n


class ProbeMetrics(MetricsSink):
    def record(self, event, duration_us=-1):
        GROSS.sample()
        MetricsSink.record(self, event, duration_us)


def _big_frame_leaf(a, b, c):
    # More state than fits a frame on MicroPython's C stack (11 words): the
    # frame is taken from the heap on every call and freed on return.
    d = a + 1
    e = b + d
    f = c + e
    g = d + f
    h = e + g
    i = f + h
    j = g + i
    k = h + j
    return i + j + k


def _big_frame_caller(a, b, c):
    d = a + 1
    e = b + d
    f = c + e
    g = d + f
    h = e + g
    i = f + h
    j = g + i
    k = h + j
    GROSS.sample()  # the caller's frame is alive here
    return i + j + k


_TRANSIENT = 4096 if not MICROPYTHON else 48


def _transient_block():
    b = bytearray(_TRANSIENT)
    return len(b)


def test_the_gross_check_catches_a_block_given_back_before_the_call_returns():
    # A check that cannot fail proves nothing: each of these takes a block and
    # frees it (or leaves it for the collector) before the call returns; the
    # net heap change is 0 for the frames, and heap_lock() would hide them.
    assert gross_alloc(lambda: None) == 0
    assert gross_alloc(lambda: _transient_block()) > 0
    if MICROPYTHON:
        assert gross_alloc(lambda: _big_frame_leaf(1, 2, 3)) > 0
        assert gross_alloc(lambda: _big_frame_caller(1, 2, 3)) > 0
        # Sampling alone (no trip wire) sees the live frame of the caller.
        assert gross_alloc(lambda: _big_frame_caller(1, 2, 3), False) > 0
        assert GROSS.high > 0
    e = assert_raises(AssertionError, assert_no_gross_alloc, lambda: _transient_block())
    assert "took heap blocks" in str(e)


def _gross_system(guardian=None, clock=None, mailbox=16, telemetry=None, observation=None):
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=mailbox, guardian_strategy=guardian)
    if clock is not None:
        cfg.with_clock(clock.ticks_ms)
    if telemetry is not None:
        cfg.with_failure_telemetry(telemetry)
    if observation is not None:
        cfg.with_failure_observation_config(observation)
    system = ActorSystem(cfg)
    actor = Probe()
    ref = system.spawn(actor, "probe")
    return system, actor, ref


def test_gross_tell_takes_no_block():
    system, actor, ref = _gross_system()
    system.start()
    tell = ref.tell
    assert_no_gross_alloc(lambda: tell(1), warm=0)
    assert ref.pending == 1


def test_gross_run_until_idle_one_message_takes_no_block():
    system, actor, ref = _gross_system()
    system.start()
    tell = ref.tell
    run = system.run_until_idle

    def one():
        tell(1)
        run()

    assert assert_no_gross_alloc(one) >= 1  # sampled inside receive()
    assert actor.seen == 2


def test_gross_run_with_a_budget_and_run_once_take_no_block():
    system, actor, ref = _gross_system()
    system.start()
    tell = ref.tell
    run = system.run
    run_once = system.run_once

    def budget():
        tell(1)
        tell(2)
        tell(3)
        run(2)
        run_once()

    assert_no_gross_alloc(budget)
    assert actor.seen == 6


@board_budget(240)  # GROSS.sample() reads gc.mem_alloc(), a walk of the heap, per message
def test_gross_many_messages_between_actors_take_no_block():
    system, actor, ref = _gross_system()
    other = system.spawn(Probe(), "other")
    system.start()
    tell = ref.tell
    tell2 = other.tell
    run = system.run_until_idle

    def batches():
        for _ in range(200):
            for _ in range(8):
                tell(1)
                tell2(1)
            run()

    assert assert_no_gross_alloc(batches) >= 3200
    assert actor.seen + other.actor.seen == 6400


class _Forward(Actor):
    def __init__(self, to):
        self.to = to

    def receive(self, msg):
        GROSS.sample()
        self.to.tell(msg)


def test_gross_a_pipeline_of_three_takes_no_block():
    system, actor, last = _gross_system()
    mid = system.spawn(_Forward(last), "mid")
    first = system.spawn(_Forward(mid), "first")
    system.start()
    tell = first.tell
    run = system.run_until_idle

    def pipeline():
        for _ in range(50):
            tell(1)
            run()

    assert_no_gross_alloc(pipeline)
    assert actor.seen == 100


def test_gross_restart_takes_no_block():
    clock = FakeClock()
    system, actor, ref = _gross_system(SupervisorStrategy(RESTART, max_restarts=1, within_ms=10), clock)
    system.start()
    tell = ref.tell
    run = system.run_until_idle

    def restart():
        tell(FAIL)
        run()
        clock.advance(11)

    assert_no_gross_alloc(restart)
    assert actor.restarted == 2
    assert system.counters.root_failures == 0


def test_gross_restart_with_backoff_takes_no_block():
    clock = FakeClock()
    strategy = SupervisorStrategy(RESTART, max_restarts=3, within_ms=50, backoff_min_ms=10, backoff_max_ms=40)
    system, actor, ref = _gross_system(strategy, clock)
    system.start()
    tell = ref.tell
    run = system.run_until_idle

    def backoff():
        tell(FAIL)
        tell(1)
        run()
        while ref.state == PAUSED:
            clock.advance(5)
            run()
        clock.advance(100)

    assert_no_gross_alloc(backoff)
    assert actor.restarted == 2 and actor.seen == 2


def test_gross_resume_takes_no_block():
    system, actor, ref = _gross_system(SupervisorStrategy(RESUME))
    system.start()
    tell = ref.tell
    run = system.run_until_idle

    def resume():
        tell(FAIL)
        tell(1)
        run()

    assert_no_gross_alloc(resume)
    assert system.counters.resumes == 2 and actor.seen == 2


def test_gross_stop_takes_no_block():
    system, actor, ref = _gross_system(SupervisorStrategy(STOP))
    system.start()
    tell = ref.tell
    run = system.run_until_idle

    def stop():
        ref.state = 0
        tell(1)
        tell(FAIL)
        tell(2)
        run()

    assert_no_gross_alloc(stop)
    assert system.counters.stops == 2 and ref.dead_letters == 2


def test_gross_escalation_through_a_supervisor_takes_no_block():
    # The leaf's supervisor escalates; the guardian restarts the supervisor's subtree.
    clock = FakeClock()
    guardian = SupervisorStrategy(RESTART, max_restarts=1, within_ms=10)
    cfg = ActorSystemConfig(max_actors=4, guardian_strategy=guardian).with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    sup = system.spawn(Probe(), "sup", supervisor=SupervisorStrategy(ESCALATE))
    leaf_actor = Probe()
    leaf = system.spawn(leaf_actor, "leaf", parent=sup)
    system.start()
    tell = leaf.tell
    run = system.run_until_idle

    def escalate():
        tell(FAIL)
        run()
        clock.advance(11)

    assert_no_gross_alloc(escalate)
    assert system.counters.escalations == 2 and leaf_actor.restarted == 2


def _skip_while_it_takes_a_frame(what, fn):
    # Parts of the root failure path in modules other than the runtime's core
    # (snapshot.py, telemetry_uart.py / wire.py). Until they keep their frames
    # off the heap this test cannot pass on MicroPython: say so, rather than
    # pass. It runs by itself once they do.
    if MICROPYTHON and gross_alloc(fn):
        skip(what + " takes a heap frame per call (issue 11: make it @micropython.native)")


def _root_failure(telemetry, observation=None):
    system, actor, ref = _gross_system(SupervisorStrategy(ESCALATE), None, 16, telemetry, observation)
    system.start()
    tell = ref.tell
    run = system.run_until_idle

    def fail():
        ref.state = 0  # the root stopped it last time: bring it back by hand
        tell(FAIL)
        run()

    fail()
    info = FailureInfo()
    info.actor = info.subject = ref
    info.error = _PROBE_ERROR
    snap = system.root.pool.acquire()
    system.root.pool.release(snap)
    _skip_while_it_takes_a_frame("FailureSnapshot.capture()", lambda: snap.capture(info))
    if telemetry is not None:
        on_failure = telemetry.on_failure
        _skip_while_it_takes_a_frame(type(telemetry).__name__ + ".on_failure()", lambda: on_failure(snap))
    return system, fail


def test_gross_root_failure_through_noop_takes_no_block():
    system, fail = _root_failure(None, FailureTelemetryObservationConfig(ProbeMetrics(), True))
    calls = system.counters.telemetry_calls
    assert assert_no_gross_alloc(fail) >= 2  # receive() and the metrics sink
    assert system.counters.telemetry_calls == calls + 2 and system.counters.snapshots_dropped == 0


def test_gross_root_failure_through_the_ring_takes_no_block():
    ring = RingBufferFailureTelemetry(4)
    system, fail = _root_failure(ring)
    recorded = ring.recorded
    assert_no_gross_alloc(fail)
    assert ring.recorded == recorded + 2 and system.counters.telemetry_errors == 0


def test_gross_root_failure_through_the_uart_takes_no_block():
    writer = ProbeWriter()
    uart = UartFailureTelemetry(writer)
    system, fail = _root_failure(uart)
    sent = uart.frames_sent
    assert assert_no_gross_alloc(fail) >= 2  # receive() and the writer
    assert uart.frames_sent == sent + 2 and uart.frames_dropped == 0
