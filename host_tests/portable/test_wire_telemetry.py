# UartFailureTelemetry: frames out, drops counted and reported in-band, never raises (both interpreters).
# MIT licence.
import sys

import support
from cellex.compat import copy_bytes
from cellex.snapshot import FailureSnapshot
from cellex.telemetry_uart import UartFailureTelemetry
from cellex.wire import FrameEncoder

ON_HOST = sys.platform in ("linux", "darwin", "win32")


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
    """A writer with only write(buf) (pyserial, a CPython file, some UART-like objects).

    Keeps what it is given in a preallocated buffer: writing allocates nothing.
    """

    def __init__(self, size=8192):
        self.data = bytearray(size)
        self.len = 0
        self.flushes = 0

    def write(self, buf):
        n = len(buf)
        if self.len + n > len(self.data):
            self.len = 0  # wrap: the tests that write a lot only count frames
        copy_bytes(self.data, self.len, buf, n)
        self.len += n
        return n

    def flush(self):
        self.flushes += 1

    def bytes(self):
        return bytes(self.data[: self.len])


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


def test_a_writer_with_only_write_buf_gets_the_same_frames_padded_with_delimiters():
    # write(buf) takes a whole buffer: the frame goes in a prepared view of the
    # frame buffer, zero-padded (an empty frame is ignored by decoders).
    w = PlainWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    t.on_failure(s)
    t.on_failure(s)
    got = w.bytes()
    first, second = failure_frame(0, s, True), failure_frame(1, s)
    assert got.startswith(b"\x00" + first)
    assert got[1 + len(first) :].lstrip(b"\x00").startswith(second)
    assert _frames(got) == [first[:-1], second[:-1]]
    assert len(got) - 1 <= len(first) + len(second) + 14
    assert (t.frames_sent, t.frames_dropped, t.write_errors) == (2, 0, 0)


def test_a_writer_with_only_write_buf_gets_every_frame_with_the_heap_locked():
    # Issue 15 item 3: this writer used to get nothing but delimiters.
    w = PlainWriter(size=1 << 16)
    t = UartFailureTelemetry(w)
    s = snapshot()
    t.on_failure(s)  # the stream-start delimiter
    count = 3333 if ON_HOST else 100

    def many():
        for _ in range(count):
            w.len = 0
            t.on_failure(s)
        return t.frames_sent

    assert support.assert_no_alloc(many) >= count
    assert _frames(w.bytes()) == [failure_frame((t.frames_sent - 1) & 0xFFFF, s)[:-1]]
    assert (t.frames_dropped, t.write_errors, t.drops_pending) == (0, 0, 0)


def test_every_frame_size_goes_whole_to_a_writer_with_only_write_buf():
    w = PlainWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    for n in range(0, 49):
        s.reason = "r" * n
        s.set_description("d" * (48 - n))
        w.len = 0
        t.on_failure(s)
        want = failure_frame(t.frames_sent - 1, s, n == 0)
        assert _frames(w.bytes()) == [want[:-1]], n
    for k in range(8):  # frames of 250..600 bytes
        s.path = tuple("p" * 24 for _ in range(k + 1))
        s.component = s.endpoint = s.transport = "m" * 24
        w.len = 0
        t.on_failure(s)
        assert _frames(w.bytes()) == [failure_frame(t.frames_sent - 1, s)[:-1]], k
    assert t.frames_dropped == 0


def test_a_writer_without_write_is_refused_at_construction():
    for bad in (None, 42, object(), "uart"):
        e = support.assert_raises(TypeError, UartFailureTelemetry, bad)
        assert "writer" in str(e)


def _frames(data):
    # The non-empty chunks between delimiters (what a decoder gets).
    return [c for c in data.split(b"\x00") if c]


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


# --- every frame either whole on the wire and counted sent, or counted dropped
# --- and never decodable (issue 15 item 1) ------------------------------------

_CRC_NIBBLES = (
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
    0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF,
)  # fmt: skip


def _crc16(data, n):
    # CRC-16/IBM-3740 four bits at a time: independent of cellex.wire's tables.
    crc = 0xFFFF
    for i in range(n):
        b = data[i]
        crc = ((crc << 4) & 0xFFFF) ^ _CRC_NIBBLES[(crc >> 12) ^ (b >> 4)]
        crc = ((crc << 4) & 0xFFFF) ^ _CRC_NIBBLES[(crc >> 12) ^ (b & 0x0F)]
    return crc


class LineDecoder:
    """What a host makes of the line, written from the spec (docs/wire-format.md §1, §2, §9).

    Strict COBS, the CRC, the header; failure frames give their snapshot
    sequence, drop reports their counts. Counts frames, bad chunks (COBS,
    length or CRC) and sequence gaps / steps back.
    """

    def __init__(self):
        self.pending = bytearray()
        self.failures = []  # snapshot sequence numbers, in arrival order
        self.frames = 0
        self.bad = 0
        self.crc_errors = 0
        self.gaps = 0
        self.backwards = 0
        self.dropped = 0  # sum of the drop reports' counts
        self.dropped_total = 0  # the last drop report's running total
        self.expected = None

    def feed(self, data):
        start = 0
        while True:
            i = data.find(b"\x00", start)
            if i < 0:
                self.pending += data[start:]
                return
            self.pending += data[start:i]
            if len(self.pending):
                self.chunk(bytes(self.pending))
                self.pending = bytearray()
            start = i + 1

    def chunk(self, chunk):
        body = _cobs_decode(chunk) if len(chunk) <= 598 else None
        if body is None or len(body) < 9:
            self.bad += 1
            return
        n = len(body) - 2
        if _crc16(body, n) != body[n] | (body[n + 1] << 8):
            self.crc_errors += 1
            return
        self.frames += 1
        h = body[0]
        seq = body[1] | (body[2] << 8)
        if not h & 0x10 and self.expected is not None and seq != self.expected:
            if (seq - self.expected) & 0xFFFF < 0x8000:
                self.gaps += 1
            else:
                self.backwards += 1
        self.expected = (seq + 1) & 0xFFFF
        kind = (h >> 2) & 3
        p = 7
        if kind == 1:
            p = 9 if h & 1 else 8
            self.failures.append(_varint(body, p)[0])
        elif kind == 2:
            dropped, p = _varint(body, p)
            self.dropped += dropped
            self.dropped_total = _varint(body, p)[0]


def _cobs_decode(chunk):
    # None unless `chunk` is exactly a COBS encoding (every block complete).
    out = bytearray()
    i = 0
    end = len(chunk)
    while i < end:
        code = chunk[i]
        j = i + code
        if code == 0 or j > end:
            return None
        out += chunk[i + 1 : j]
        i = j
        if code < 0xFF and i < end:
            out.append(0)
    return out


def _varint(body, p):
    v = 0
    shift = 0
    while True:
        b = body[p]
        p += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, p


class ChoppyWriter:
    """A line that takes what it likes: everything, nothing (None or 0), a random
    part, everything but the delimiter, or raises (before or after taking a part).
    Everything it takes goes to a LineDecoder."""

    def __init__(self, seed, line):
        self.x = seed
        self.line = line
        self.calls = 0
        self.raised = 0
        self.err = OSError(11)

    def rand(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x3FFFFFFF
        return (self.x >> 8) % n

    def write(self, buf, n=-1):
        if n < 0:
            n = len(buf)
        self.calls += 1
        shape = self.rand(16)
        if shape < 10:
            r = n
        elif shape == 10:
            return None
        elif shape == 11:
            r = 0
        elif shape == 12:
            r = n - 1  # all but the delimiter
        elif shape == 13:
            r = self.rand(n)
        else:
            r = self.rand(n) if shape == 15 else 0
            self.line.feed(bytes(buf[:r]))
            self.raised += 1
            raise self.err
        self.line.feed(bytes(buf[:r]))
        return r


def _failures_through_a_choppy_line(count, seed):
    line = LineDecoder()
    w = ChoppyWriter(seed, line)
    t = UartFailureTelemetry(w, sized=True)
    s = snapshot()
    paths = (("user", "sensors", "imu"), ("user",), (), ("a" * 24,) * 9)
    for i in range(count):
        s.sequence = i
        s.path = paths[i % 4]
        s.reason = "r" * (i % 60)
        s.set_description(s.reason)
        t.on_failure(s)
    # then a line that takes everything: pending drops and a torn frame go out
    w.rand = lambda n: 0
    assert t.flush() is True
    return t, w, line


def test_random_partial_writes_never_lose_duplicate_or_reorder_a_failure():
    count = 3000 if ON_HOST else 150
    t, w, line = _failures_through_a_choppy_line(count, 2024)
    decoded = line.failures
    # every failure decoded or counted dropped, none both
    assert len(decoded) + line.dropped_total == count
    assert line.dropped == line.dropped_total == t.frames_dropped
    assert len(decoded) == len(set(decoded))
    assert decoded == sorted(decoded)
    # the frames the board counts are the frames the host decodes; torn ones never decode
    assert line.frames == t.frames_sent
    assert (line.gaps, line.backwards, line.crc_errors) == (0, 0, 0)
    assert line.bad == t.frames_torn
    assert t.frames_torn > 0 and t.write_errors == w.raised
    # every shape came up
    assert t.frames_dropped > 0 and len(decoded) > count // 3
    print("partial writes: %d failures, %d decoded, %d dropped, %d torn, %d writer raises, %d write calls" % (
        count, len(decoded), t.frames_dropped, t.frames_torn, w.raised, w.calls))


def test_a_frame_cut_anywhere_never_decodes_and_its_number_is_reused():
    s = snapshot()
    n = len(failure_frame(1, s))
    for cut in range(1, n):
        line = LineDecoder()
        w = StreamWriter()
        t = UartFailureTelemetry(w)
        t.on_failure(s)
        w.room = cut
        t.on_failure(s)
        w.room = None
        t.on_failure(s)
        line.feed(w.bytes())
        assert (t.frames_sent, t.frames_dropped, t.frames_torn) == (3, 1, 1), cut
        assert line.failures == [1, 1] and line.dropped == 1, cut  # frame 0, report, frame 2
        assert (line.bad, line.gaps, line.backwards, line.crc_errors) == (1, 0, 0, 0), cut


def test_a_cut_just_before_the_delimiter_is_ended_by_a_block_that_never_fills():
    # The case issue 15 found: a 0x00 alone would have completed the frame.
    clock = support.FakeClock(5)
    w = StreamWriter()
    t = UartFailureTelemetry(w, clock=clock.ticks_ms)
    s = snapshot()
    t.on_failure(s)
    frame = failure_frame(1, s)
    mark = w.len
    w.room = len(frame) - 1
    t.on_failure(s)
    w.room = None
    t.flush()
    assert w.bytes()[mark:] == frame[:-1] + b"\xff\x00" + drop_frame(1, 5, 1, 1)
    assert (t.frames_sent, t.frames_dropped, t.frames_torn, t.drops_reported) == (2, 1, 1, 1)


def test_a_writer_that_raises_mid_frame_gets_a_chunk_too_long_to_decode():
    line = LineDecoder()
    w = ChoppyWriter(1, line)
    t = UartFailureTelemetry(w, sized=True)
    s = snapshot()
    w.rand = lambda n: 0  # take everything
    t.on_failure(s)
    w.rand = lambda n: 15 if n == 16 else n // 2  # raise after taking half the frame
    t.on_failure(s)
    w.rand = lambda n: 0
    t.on_failure(s)
    assert (t.frames_sent, t.frames_dropped, t.frames_torn, t.write_errors) == (3, 1, 1, 1)
    assert line.failures == [1, 1] and line.dropped == 1
    assert (line.bad, line.crc_errors, line.gaps) == (1, 0, 0)


def test_cutting_the_ending_bytes_too_still_leaves_nothing_to_decode():
    # The bytes that end a torn frame can be cut short themselves (room: bytes per write).
    s = snapshot()
    n = len(failure_frame(1, s))
    for cut in (n - 1, n // 2, 3):
        for room in (0, 1, 2):
            line = LineDecoder()
            w = StreamWriter()
            t = UartFailureTelemetry(w)
            t.on_failure(s)
            w.room = cut
            t.on_failure(s)  # torn
            w.room = room
            t.on_failure(s)
            t.on_failure(s)
            w.room = None
            t.on_failure(s)
            assert t.flush() is True
            line.feed(w.bytes())
            assert len(line.failures) + line.dropped_total == 5, (cut, room)
            assert line.failures == [1, 1, 1, 1, 1][: len(line.failures)], (cut, room)
            assert line.dropped_total == t.frames_dropped >= 1, (cut, room)
            assert line.bad == t.frames_torn >= 1, (cut, room)
            assert (line.gaps, line.backwards, line.crc_errors) == (0, 0, 0), (cut, room)


def test_torn_frames_and_their_ending_allocate_nothing():
    w = StreamWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    t.on_failure(s)
    n = len(failure_frame(1, s))
    cuts = (n - 1, 5, n // 2)

    def torn():
        for cut in cuts:
            w.len = 0
            w.room = cut
            t.on_failure(s)
            w.room = 1
            t.on_failure(s)
            w.room = None
            t.on_failure(s)
        return t.frames_torn

    assert support.assert_no_alloc(torn) >= 3
    assert t.drops_pending == 0


# --- flush() (issue 15 item 2) -------------------------------------------------


def test_flush_calls_the_writers_flush_with_the_heap_locked():
    w = StreamWriter()
    t = UartFailureTelemetry(w)
    t.on_failure(snapshot())
    assert support.assert_no_alloc(t.flush) is True
    assert w.flushes >= 1 and t.write_errors == 0


def test_flush_reports_drops_and_ends_a_torn_frame_with_the_heap_locked():
    clock = support.FakeClock(9)
    w = StreamWriter()
    t = UartFailureTelemetry(w, clock=clock.ticks_ms)
    s = snapshot()
    t.on_failure(s)
    w.room = 7
    t.on_failure(s)
    w.room = None
    mark = w.len
    assert support.assert_no_alloc(t.flush) is True
    assert w.flushes >= 1 and t.write_errors == 0 and t.drops_pending == 0
    line = LineDecoder()
    line.feed(w.bytes())
    assert line.failures == [1] and line.dropped == 1 and line.bad == 1
    assert w.bytes()[mark:].endswith(drop_frame(1, 9, 1, 1))


class NoFlushWriter:
    def __init__(self):
        self.len = 0

    def write(self, buf, n=-1):
        self.len += n
        return n


def test_flush_works_without_a_writer_flush_and_with_a_raising_one():
    t = UartFailureTelemetry(NoFlushWriter())
    t.on_failure(snapshot())
    assert support.assert_no_alloc(t.flush) is True
    r = RaisingWriter(OSError(5))
    t = UartFailureTelemetry(r)
    errors = t.write_errors
    assert support.assert_no_alloc(t.flush) is True  # nothing dropped: nothing to report
    assert r.flush_calls >= 1 and t.write_errors > errors


# --- gross: no heap block taken, not even one given back (DESIGN §3.1) ---------


def test_gross_every_path_of_the_uart_back_end_takes_no_block():
    w = StreamWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    t.on_failure(s)
    n = len(failure_frame(1, s))

    def fast():
        w.len = 0
        t.on_failure(s)

    def dropped_reported_and_torn():
        w.len = 0
        w.room = 0
        t.on_failure(s)  # dropped
        w.room = n - 1
        t.on_failure(s)  # the report goes, the failure is torn at the delimiter
        w.room = None
        t.on_failure(s)  # ends the torn frame, reports, sends

    def heartbeat_and_flush():
        w.len = 0
        t.heartbeat(3)
        t.flush()

    for fn in (fast, dropped_reported_and_torn, heartbeat_and_flush):
        support.assert_no_gross_alloc(fn)
    assert t.frames_torn >= 2 and t.drops_pending == 0 and w.flushes >= 2


def test_gross_a_writer_with_only_write_buf_takes_no_block():
    w = PlainWriter()
    t = UartFailureTelemetry(w)
    s = snapshot()
    t.on_failure(s)

    def send():
        w.len = 0
        t.on_failure(s)
        t.heartbeat()

    support.assert_no_gross_alloc(send)
    assert t.frames_dropped == 0
