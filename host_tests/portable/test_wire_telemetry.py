# UartFailureTelemetry: frames out, drops counted and reported in-band, never raises (both interpreters).
# MIT licence.
import support
from cellex.compat import copy_bytes
from cellex.snapshot import FailureSnapshot
from cellex.telemetry_uart import UartFailureTelemetry
from cellex.wire import FrameEncoder


class StreamWriter:
    """Like a MicroPython stream (machine.UART): write(buf, n) takes up to `room` bytes.

    `room` None = everything; 0 = full (returns None, as a non-blocking UART
    does). Bytes land in a preallocated buffer, so writing allocates nothing.
    """

    def __init__(self, room=None):
        self.room = room
        self.data = bytearray(8192)
        self.len = 0
        self.flushes = 0

    def write(self, buf, n=-1):
        if n < 0:
            n = len(buf)
        if self.room is not None:
            if self.room == 0:
                return None
            n = min(n, self.room)
        copy_bytes(self.data, self.len, buf, n)
        self.len += n
        return n

    def flush(self):
        self.flushes += 1

    def bytes(self):
        return bytes(self.data[: self.len])


class PlainWriter:
    """A writer with only write(buf) (pyserial, a CPython file)."""

    def __init__(self):
        self.data = bytearray()

    def write(self, buf):
        self.data += bytes(buf)
        return len(buf)


class RaisingWriter:
    def __init__(self, exc):
        self.exc = exc
        self.write_calls = 0
        self.flush_calls = 0

    def write(self, buf, n=-1):
        self.write_calls += 1
        raise self.exc

    def flush(self):
        self.flush_calls += 1
        raise self.exc


def snapshot(sequence=1, reason="read timeout"):
    s = FailureSnapshot()
    s.sequence = sequence
    s.timestamp_ms = 1000 + sequence
    s.actor_id = 3
    s.path = ("user", "sensors", "imu")
    s.error_type = "OSError"
    s.reason = reason
    s.set_description(reason)
    s.add_tag("bus", "i2c0")
    s.stage = 1
    return s


def failure_frame(seq, snap, start=False):
    enc = FrameEncoder()
    return bytes(enc.buf[: enc.encode_failure(seq, snap, start)])


def drop_frame(seq, ts, dropped, total, start=False):
    enc = FrameEncoder()
    return bytes(enc.buf[: enc.encode_drop_report(seq, ts, dropped, total, start)])


def test_the_first_frame_is_preceded_by_one_delimiter_and_marks_the_stream_start():
    w = StreamWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    t.on_failure(s)
    assert w.bytes() == b"\x00" + failure_frame(0, s, True)


def test_later_frames_follow_with_consecutive_sequence_numbers():
    w = StreamWriter()
    t = UartFailureTelemetry(w)
    a, b = snapshot(1), snapshot(2)
    t.on_failure(a)
    t.on_failure(b)
    assert w.bytes() == b"\x00" + failure_frame(0, a, True) + failure_frame(1, b)
    assert (t.failures, t.frames_sent, t.frames_dropped) == (2, 2, 0)
    assert t.bytes_sent == w.len - 1


def test_a_writer_with_only_write_buf_gets_the_same_bytes():
    w = PlainWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    t.on_failure(s)
    t.on_failure(s)
    assert bytes(w.data) == b"\x00" + failure_frame(0, s, True) + failure_frame(1, s)


def test_a_full_writer_drops_the_frame_and_counts_it():
    w = StreamWriter(room=0)
    t = UartFailureTelemetry(w)
    t.on_failure(snapshot())
    assert (t.frames_sent, t.frames_dropped, t.drops_pending) == (0, 1, 1)
    assert w.len == 0


def test_the_next_frame_that_fits_is_preceded_by_a_drop_report():
    clock = support.FakeClock(500)
    w = StreamWriter(room=0)
    t = UartFailureTelemetry(w, clock=clock.ticks_ms)
    t.on_failure(snapshot(1))
    t.on_failure(snapshot(2))
    w.room = None
    s = snapshot(3)
    t.on_failure(s)
    # Dropped frames use no sequence number: the drop report is the stream's frame 0.
    assert w.bytes() == b"\x00" + drop_frame(0, 500, 2, 2, True) + failure_frame(1, s)
    assert (t.frames_dropped, t.drops_reported, t.drops_pending) == (2, 2, 0)


def test_a_drop_report_counts_only_drops_since_the_last_one_and_the_running_total():
    clock = support.FakeClock(7)
    w = StreamWriter()
    t = UartFailureTelemetry(w, clock=clock.ticks_ms)
    t.on_failure(snapshot(1))
    w.room = 0
    t.on_failure(snapshot(2))
    w.room = None
    t.on_failure(snapshot(3))
    w.room = 0
    t.on_failure(snapshot(4))
    t.on_failure(snapshot(5))
    w.room = None
    mark = w.len
    s = snapshot(6)
    t.on_failure(s)
    assert w.bytes()[mark:] == drop_frame(3, 7, 2, 3) + failure_frame(4, s)


def test_a_short_write_is_a_drop_and_the_next_frame_starts_with_a_delimiter():
    clock = support.FakeClock(42)
    w = StreamWriter()
    t = UartFailureTelemetry(w, clock=clock.ticks_ms)
    t.on_failure(snapshot(1))
    w.room = 10
    t.on_failure(snapshot(2))
    assert (t.frames_sent, t.frames_dropped) == (1, 1)
    w.room = None
    mark = w.len
    s = snapshot(3)
    t.on_failure(s)
    # The delimiter ends the torn frame on the wire, so the drop report decodes.
    assert w.bytes()[mark:] == b"\x00" + drop_frame(1, 42, 1, 1) + failure_frame(2, s)


def test_a_raising_writer_is_counted_and_never_raises_into_the_caller():
    w = RaisingWriter(OSError(5))
    t = UartFailureTelemetry(w)
    t.on_failure(snapshot())
    t.on_failure(snapshot())
    assert (t.frames_sent, t.frames_dropped) == (0, 2)
    assert t.heartbeat() is False
    assert t.flush() is False
    # Every raising call is counted (but the zero-length probe made at start).
    assert t.write_errors == (w.write_calls - 1) + w.flush_calls


def test_a_tag_that_is_not_text_is_sent_empty_and_marked_truncated():
    w = StreamWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    s.add_tag("n", 42)
    t.on_failure(s)
    expected = snapshot()
    expected.add_tag("n", "")
    frame = failure_frame(0, expected, True)
    body_end = len(frame)
    assert t.frames_sent == 1 and t.encode_errors == 0
    assert len(w.bytes()) == 1 + body_end  # same size: one empty str8, its truncated bit set


def test_a_snapshot_that_cannot_be_encoded_is_counted_as_a_dropped_failure():
    w = StreamWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    s.path = None
    t.on_failure(s)
    assert (t.encode_errors, t.frames_dropped, t.drops_pending) == (1, 1, 1)


def test_flush_reports_pending_drops_and_drains_the_writer():
    clock = support.FakeClock(9)
    w = StreamWriter(room=0)
    t = UartFailureTelemetry(w, clock=clock.ticks_ms)
    t.on_failure(snapshot())
    w.room = None
    assert t.flush() is True
    assert w.bytes() == b"\x00" + drop_frame(0, 9, 1, 1, True)
    assert w.flushes == 1


def test_flush_says_so_when_drops_are_still_unreported():
    w = StreamWriter(room=0)
    t = UartFailureTelemetry(w)
    t.on_failure(snapshot())
    assert t.flush() is False
    assert t.drops_pending == 1


def test_a_heartbeat_carries_the_counters():
    clock = support.FakeClock(60000)
    w = StreamWriter()
    t = UartFailureTelemetry(w, clock=clock.ticks_ms)
    t.on_failure(snapshot())
    w.room = 0
    t.on_failure(snapshot())
    w.room = None
    mark = w.len
    assert t.heartbeat(snapshots_dropped=4) is True
    enc = FrameEncoder()
    report = bytes(enc.buf[: enc.encode_drop_report(1, 60000, 1, 1)])
    beat = bytes(enc.buf[: enc.encode_heartbeat(2, 60000, 2, 2, 1, 0, 4)])
    assert w.bytes()[mark:] == report + beat


def test_a_failure_allocates_nothing_when_written():
    w = StreamWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    t.on_failure(s)  # the stream-start delimiter

    def send():
        w.len = 0
        t.on_failure(s)
        return t.frames_sent

    support.assert_no_alloc(send)
    assert t.frames_dropped == 0


def test_dropping_and_reporting_drops_allocate_nothing():
    w = StreamWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    t.on_failure(s)

    def drop_then_report():
        w.len = 0
        w.room = 0
        t.on_failure(s)
        w.room = None
        t.on_failure(s)
        t.heartbeat()
        return t.drops_reported

    support.assert_no_alloc(drop_then_report)
    assert t.drops_pending == 0 and t.drops_reported >= 1


def test_a_raising_writer_allocates_nothing():
    err = OSError(11)
    t = UartFailureTelemetry(RaisingWriter(err), sized=True)
    s = snapshot()

    def fail():
        t.on_failure(s)
        return t.write_errors

    support.assert_no_alloc(fail)
    assert t.write_errors >= 1
