# Supervised failures sent to telemetry as supervision frames (wire type 0, kind 2), when the
# config asks: frames, drops, counters, no allocation (both interpreters, and the chip).
# MIT licence.
import json

import support
from actors import BOOM, FAIL, Counter
from cellex.compat import copy_bytes
from cellex.config import ActorSystemConfig
from cellex.supervision import RESTART, RESUME, STOP, SupervisorStrategy
from cellex.system import ActorSystem
from cellex.telemetry_fanout import FanOutFailureTelemetry
from cellex.telemetry_ring import RingBufferFailureTelemetry
from cellex.telemetry_uart import UartFailureTelemetry
from cellex.wire import FrameEncoder


class Line:
    """A MicroPython-stream-like writer (write(buf, n)) into a preallocated buffer.

    `room` 0 makes it full (returns None, as a non-blocking UART does). Writing
    allocates nothing; the buffer starts over when full (tests that send a lot
    only count frames).
    """

    def __init__(self):
        self.data = bytearray(4096)
        self.len = 0
        self.room = None

    def write(self, buf, n=-1):
        if n < 0:
            n = len(buf)
        if self.room == 0:
            return None
        if self.len + n > len(self.data):
            self.len = 0
        copy_bytes(self.data, self.len, buf, n)
        self.len += n
        return n

    def bytes(self):
        return bytes(self.data[: self.len])


class RaisingBackEnd:
    def __init__(self):
        self.calls = 0
        self.error = OSError(5)

    def on_failure(self, snapshot):
        pass

    def on_supervised(self, info):
        self.calls += 1
        raise self.error


class FailuresOnly:
    """A back-end written before supervision frames: it has no on_supervised()."""

    def __init__(self):
        self.failures = 0

    def on_failure(self, snapshot):
        self.failures += 1


def _system(telemetry, directive=RESTART, enabled=True, clock=None):
    cfg = ActorSystemConfig(max_actors=4).with_failure_telemetry(telemetry)
    if enabled:
        cfg.with_supervised_failure_telemetry()
    if clock is not None:
        cfg.with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    sup = system.spawn(
        Counter(), "sensors", supervisor=SupervisorStrategy(directive, max_restarts=1000, within_ms=1)
    )
    child = system.spawn(Counter(), "imu", parent=sup)
    system.start()
    return system, child


def _fail(system, child):
    child.tell(FAIL)
    system.run_until_idle()


def _frame(seq, timestamp_ms, sequence, actor_id, decision, start=False, error="Boom", stage=0):
    enc = FrameEncoder()
    n = enc.encode_supervision(
        seq, timestamp_ms, sequence, actor_id, ("user", "sensors", "imu"), error, decision, stage, start
    )
    return bytes(enc.buf[:n])


def load_vectors():
    with open(support.data_path("wire-vectors.json")) as f:
        return json.load(f)["supervision_vectors"]


def test_the_encoder_matches_the_golden_supervision_vectors():
    vectors = load_vectors()
    assert len(vectors) >= 4
    for v in vectors:
        a = v["input"]
        enc = FrameEncoder()
        n = enc.encode_supervision(
            a["seq"], a["timestamp_ms"], a["sequence"], a["actor_id"], tuple(a["path"]), a["error_type"],
            a["decision"], a["stage"], a["start"],
        )  # fmt: skip
        assert bytes(enc.buf[:n]).hex() == v["hex"], v["name"]
        assert n == v["wire_bytes"]


def test_a_restarted_child_is_sent_as_a_supervision_frame():
    line = Line()
    clock = support.FakeClock(1234)
    system, child = _system(UartFailureTelemetry(line), clock=clock)
    _fail(system, child)
    assert child.actor.restarted == 1
    # the stream's first frame: a delimiter before it, seq 0, stream start
    assert line.bytes() == b"\x00" + _frame(0, 1234, 0, child.id, RESTART, start=True)


def test_resumed_and_stopped_children_are_sent_with_their_decision_and_numbered_in_turn():
    for directive in (RESUME, STOP):
        line = Line()
        clock = support.FakeClock(50)
        system, child = _system(UartFailureTelemetry(line), directive=directive, clock=clock)
        _fail(system, child)
        expected = b"\x00" + _frame(0, 50, 0, child.id, directive, start=True)
        if directive == RESUME:
            _fail(system, child)
            expected += _frame(1, 50, 1, child.id, RESUME)
        assert line.bytes() == expected


def test_supervised_failures_are_not_sent_unless_the_config_asks():
    line = Line()
    system, child = _system(UartFailureTelemetry(line), enabled=False)
    _fail(system, child)
    assert child.actor.restarted == 1 and system.counters.supervised == 1
    assert line.len == 0 and system.counters.telemetry_calls == 0


def test_supervised_failures_are_counted_as_telemetry_calls_like_root_failures():
    line = Line()
    system, child = _system(UartFailureTelemetry(line))
    _fail(system, child)
    _fail(system, child)
    c = system.counters
    assert (c.supervised, c.telemetry_calls, c.telemetry_errors) == (2, 2, 0)


def test_a_full_line_drops_the_supervision_frame_and_the_next_frame_reports_it_in_band():
    line = Line()
    clock = support.FakeClock(7)
    uart = UartFailureTelemetry(line, clock=clock.ticks_ms)
    system, child = _system(uart, clock=clock)
    line.room = 0
    _fail(system, child)
    assert (uart.supervised, uart.frames_dropped, uart.drops_pending) == (1, 1, 1)
    line.room = None
    _fail(system, child)
    enc = FrameEncoder()
    report = bytes(enc.buf[: enc.encode_drop_report(0, 7, 1, 1, True)])
    # the dropped frame's number (0) goes to the drop report; sequence 0 is missing on the host
    assert line.bytes() == b"\x00" + report + _frame(1, 7, 1, child.id, RESTART)
    assert child.actor.restarted == 2


def test_a_raising_back_end_is_counted_and_the_child_is_still_restarted():
    backend = RaisingBackEnd()
    system, child = _system(backend)
    _fail(system, child)
    assert backend.calls == 1 and system.counters.telemetry_errors == 1
    assert child.actor.restarted == 1


def test_a_back_end_without_on_supervised_is_not_sent_them():
    backend = FailuresOnly()
    system, child = _system(backend)
    _fail(system, child)
    assert system.counters.telemetry_calls == 0 and system.counters.telemetry_errors == 0
    assert child.actor.restarted == 1


def test_a_fan_out_sends_supervised_failures_to_each_back_end_that_takes_them():
    line = Line()
    ring = RingBufferFailureTelemetry(2)
    system, child = _system(FanOutFailureTelemetry(ring, FailuresOnly(), UartFailureTelemetry(line)))
    _fail(system, child)
    assert line.len > 0 and len(ring) == 0  # the ring keeps root failures only


@support.board_budget(120)
def test_gross_a_supervised_failure_sent_as_a_frame_takes_no_block():
    line = Line()
    uart = UartFailureTelemetry(line)
    system, child = _system(uart, clock=support.FakeClock(5))

    def fail_and_restart():
        line.len = 0
        child.tell(FAIL)
        system.run_until_idle()

    def dropped_then_reported():
        line.len = 0
        line.room = 0
        child.tell(FAIL)
        system.run_until_idle()
        line.room = None
        child.tell(FAIL)
        system.run_until_idle()

    support.assert_no_gross_alloc(fail_and_restart)
    support.assert_no_gross_alloc(dropped_then_reported)
    support.assert_no_alloc(fail_and_restart)
    assert uart.frames_dropped >= 1 and uart.drops_pending == 0 and uart.encode_errors == 0
    assert uart.supervised == system.counters.supervised >= 5 and BOOM is not None
