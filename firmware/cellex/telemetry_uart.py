# cellex.telemetry_uart: UartFailureTelemetry, the compact binary back-end (docs/wire-format.md).
# MIT licence.
#
# Each failure is encoded into one preallocated frame buffer and handed to
# the writer once; nothing waits. Every frame ends one of two ways:
#   - written whole: counted in frames_sent, its sequence number used up;
#   - not written whole: counted dropped (a failure is reported in-band by the
#     next drop report), its sequence number reused by the next frame, and
#     never decodable on the host. A frame the writer took part of (a short
#     count, or a raise) is left open on the wire; before anything else is
#     written the back-end ends it so that it cannot decode (see _torn() and
#     docs/wire-format.md §1), and counts it in frames_torn.
# Zero allocation per failure, and no heap frame (the per-failure methods are
# @micropython.native; the frame is encoded by one viper call), with a
# MicroPython stream writer (machine.UART, a file, a socket: write(buf, n))
# and with a writer that only has write(buf). on_failure() has a fast path
# for the usual case (nothing to report, line at a frame boundary, sized
# writer); `_slow` says when it cannot take it.
from cellex.compat import clear_traceback, const, copy_bytes, micropython, ticks_ms
from cellex.wire import BUF_SIZE, encode_drop_report, encode_failure, encode_heartbeat, encode_supervision
from cellex.wire import U30 as _WRAP

# Counters wrap at 2**30 (_WRAP: MicroPython's small ints on a 32-bit board;
# the wire carries them modulo 2**30). An imported plain global, never a
# literal in native code (see cellex.wire.U30; host_tests/test_wire_decoder.py
# checks that this module's native code loads no big constant).


@micropython.native
def _add(a, b):
    # (a + b) modulo 2**30 for a, b in [0, 2**30), never through a big int.
    room = _WRAP - b
    if a <= room:
        return a + b
    return a - room - 1


# State of the line after the last frame the back-end started:
_CLEAN = const(0)  # at a frame boundary
_END = const(1)  # inside an open COBS block (or before the first frame): one 0x00 ends it
_BREAK = const(2)  # an open frame cut at a COBS block boundary: 0xFF 0x00 (a block that is never filled)
_FILL = const(3)  # an open frame cut at an unknown point (the writer raised): at least
# FRAME_MAX non-zero bytes, then 0x00: a chunk the decoder rejects by its length
_FILL_BYTES = const(600)  # > FRAME_MAX - 1, the longest chunk a decoder accepts

_END_BYTES = b"\x00"
_BREAK_BYTES = b"\xff\x00"
_FILL_CHUNK = (  # 64 non-zero bytes, written until _FILL_BYTES are out
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
)

# A writer with only write(buf) gets a whole memoryview of the frame buffer,
# made once: the smallest of these sizes that holds the frame, zero-padded
# (0x00 is the delimiter, and empty frames are ignored by decoders).
# Slicing a memoryview per frame would allocate.
_PLAIN_SIZES = (16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128,
                160, 192, 224, 256, 320, 384, 448, 512, BUF_SIZE)  # fmt: skip
_PAD_MAX = const(91)  # largest gap between two sizes above


class UartFailureTelemetry:
    """Failure telemetry back-end writing wire-format frames to `writer`.

    writer  an object with write(): a machine.UART configured non-blocking
            (timeout=0, txbuf >= wire.FRAME_MAX), a file, a socket, a pyserial
            port. write() returns the count of bytes it took; None or 0 means
            none (a non-blocking UART that is full). write(buf, n) is used when
            the writer takes it (MicroPython streams), else write(buf) with a
            zero-padded buffer (see above). The writer's flush(), if any, is
            called by flush().
    clock   ticks_ms-like callable for drop-report and heartbeat timestamps.
    sized   True: call writer.write(buf, n); False: writer.write(buf) only;
            None (default): probe once here with a zero-length write(buf, 0),
            and use the sized form unless the writer rejects it with TypeError.

    Counters (attributes, each wraps at 2**30):
      failures            on_failure() calls
      supervised          on_supervised() calls (supervision frames asked for)
      frames_sent         frames written whole (failures, drop reports, heartbeats)
      frames_dropped      failures and supervision frames not written whole (each one
                          reported in-band later)
      frames_torn         frames of any type the writer took only part of, or raised
                          on, then made undecodable on the wire (see the module notes)
      drops_reported      dropped failures the host has been told about
      drops_pending       dropped failures not yet reported
      heartbeats_dropped  heartbeats not written (not reported: counters catch up)
      write_errors        writer.write() or writer.flush() raised
      encode_errors       a snapshot could not be encoded (e.g. a path that is not a tuple);
                          a field that is not a str is sent empty and marked truncated
      bytes_sent          bytes of whole frames written
    """

    def __init__(self, writer, clock=ticks_ms, sized=None):
        if not callable(getattr(writer, "write", None)):
            raise TypeError("UartFailureTelemetry: writer needs a write() method, got %r" % (writer,))
        if not callable(clock):
            raise TypeError("UartFailureTelemetry: clock must be callable, got %r" % (clock,))
        # Bound methods made once: making one per call would allocate.
        write = writer.write
        self._wr = write
        self._fl = writer.flush if callable(getattr(writer, "flush", None)) else None
        self._clock = clock
        self._buf = bytearray(BUF_SIZE)
        if sized is None:
            # Done at start, while allocating is allowed (a TypeError allocates).
            try:
                write(self._buf, 0)
                sized = True
            except TypeError:
                sized = False
            except Exception:  # noqa: BLE001 - e.g. a closed port: decide at the first write
                sized = True
        self._sized = bool(sized)
        self._views = []
        self._zeros = b""
        if not sized:
            self._plain()
        self._seq = 0
        self._start = True
        self._line = _END  # the stream opens with a delimiter: it ends whatever came before
        self._fill = 0
        self._slow = True  # on_failure() takes the general path (see _set_slow())
        self.failures = 0
        self.supervised = 0
        self.frames_sent = 0
        self.frames_dropped = 0
        self.frames_torn = 0
        self.drops_reported = 0
        self.drops_pending = 0
        self.heartbeats_dropped = 0
        self.write_errors = 0
        self.encode_errors = 0
        self.bytes_sent = 0
        self._drops_total = 0

    @micropython.native
    def on_failure(self, snapshot):
        """Encode and write one failure frame. Never raises; allocates nothing."""
        w = _WRAP
        c = self.failures
        self.failures = c + 1 if c != w else 0
        if self._slow:
            self._failure_slow(snapshot)
            return
        # Fast path: nothing to report, the line at a frame boundary, a sized writer.
        buf = self._buf
        start = self._start
        n = -1
        try:
            n = encode_failure(buf, self._seq, snapshot, start)  # pyright: ignore[reportArgumentType]
            r = self._wr(buf, n)
        except Exception as e:  # noqa: BLE001 - a back-end never raises into the runtime
            clear_traceback(e)
            if n < 0:
                self.encode_errors = _add(self.encode_errors, 1)
            else:
                self.write_errors = _add(self.write_errors, 1)
                self._raised()
            self._dropped()
            return
        if r is not None and r >= n:
            c = self._seq + 1
            self._seq = c if c >> 16 == 0 else 0
            if start:
                self._start = False
            c = self.frames_sent
            self.frames_sent = c + 1 if c != w else 0
            c = self.bytes_sent
            self.bytes_sent = c + n if c <= w - n else c - (w - n) - 1
            return
        if r:
            self._torn(r)
        self._dropped()

    @micropython.native
    def _failure_slow(self, snapshot):
        # on_failure() when drops are pending, the line is torn or the writer is plain.
        if self.drops_pending:
            self._report_drops()
        try:
            n = encode_failure(self._buf, self._seq, snapshot, self._start)  # pyright: ignore[reportArgumentType]
        except Exception as e:  # noqa: BLE001
            self._not_encoded(e)
            return
        if not self._send(n):
            self._dropped()

    @micropython.native
    def _not_encoded(self, e):
        # The encoder raised on what it was given: counted, and the frame is a drop.
        clear_traceback(e)
        self.encode_errors = _add(self.encode_errors, 1)
        self._dropped()

    @micropython.native
    def on_supervised(self, info):
        """Encode and write one supervision frame (wire type 0, kind 2) for a failure a
        supervisor decided. Dropped and reported like a failure frame; never raises;
        allocates nothing."""
        self.supervised = _add(self.supervised, 1)
        if self.drops_pending:
            self._report_drops()
        try:
            actor = info.actor
            n = encode_supervision(
                self._buf, self._seq, info.timestamp_ms, self._start, info.sequence, actor.id,
                actor.path.segments, info.error.__class__.__name__, info.decision, info.stage,
            )  # fmt: skip
        except Exception as e:  # noqa: BLE001
            self._not_encoded(e)
            return
        if not self._send(n):
            self._dropped()

    def send_encoded(self, encode):
        """Write one frame that encode(buf, seq, start) -> length puts in this back-end's
        frame buffer (BUF_SIZE bytes) as this stream's next frame.

        For frames made outside this module at start-up, such as the boot
        frame (cellex.boot_frame.send_boot_frame): it takes the stream's
        sequence number and stream-start bit, so it opens the stream when it
        comes first. True when it went out whole; a frame that did not is
        not counted as a dropped failure.
        """
        return self._send(encode(self._buf, self._seq, self._start))

    @micropython.native
    def heartbeat(self, snapshots_dropped=0):
        """Write a heartbeat (stats) frame; True when it went out whole. Never raises."""
        if self.drops_pending:
            self._report_drops()
        n = encode_heartbeat(
            self._buf, self._seq, self._clock(), self.failures, self.frames_sent, self.frames_dropped,
            self.write_errors, snapshots_dropped, self._start,
        )
        if self._send(n):
            return True
        self.heartbeats_dropped = _add(self.heartbeats_dropped, 1)
        return False

    @micropython.native
    def flush(self):
        """Synchronous: report pending drops, end a torn frame, then flush the writer.

        Call before a deliberate reset so the last failure reaches the host
        (the root does, under ROOT_RESET). Returns True when no drop is left
        unreported. Never raises; allocates nothing (the writer's own flush()
        aside).
        """
        if self.drops_pending:
            self._report_drops()
        if self._line != _CLEAN:
            self._end_line()
        fl = self._fl
        if fl is not None:
            try:
                fl()
            except Exception as e:  # noqa: BLE001
                clear_traceback(e)
                self.write_errors = _add(self.write_errors, 1)
        return self.drops_pending == 0

    @micropython.native
    def _dropped(self):
        self.frames_dropped = _add(self.frames_dropped, 1)
        self.drops_pending += 1
        self._drops_total = _add(self._drops_total, 1)
        self._slow = True

    @micropython.native
    def _raised(self):
        # The writer raised on a frame: how much of it went out is unknown.
        self.frames_torn = _add(self.frames_torn, 1)
        self._line = _FILL
        self._fill = _FILL_BYTES
        self._slow = True

    @micropython.native
    def _set_slow(self):
        self._slow = self.drops_pending != 0 or self._line != _CLEAN or not self._sized

    @micropython.native
    def _report_drops(self):
        pending = self.drops_pending
        n = encode_drop_report(self._buf, self._seq, self._clock(), pending, self._drops_total, self._start)
        if self._send(n):
            self.drops_pending = 0
            self.drops_reported = _add(self.drops_reported, pending)
            self._set_slow()

    @micropython.native
    def _send(self, n):
        # Write the frame in buf[0:n]; True when it went out whole (its sequence
        # number is then used up). A frame is never started on a torn line.
        if self._line != _CLEAN and not self._end_line():
            return False
        r = self._write(self._buf, n)
        if r >= n:
            c = self._seq + 1
            self._seq = c if c >> 16 == 0 else 0
            self._start = False
            self.frames_sent = _add(self.frames_sent, 1)
            self.bytes_sent = _add(self.bytes_sent, n)
            return True
        if r > 0:
            self._torn(r)
        elif r < 0:
            self._raised()
        return False

    @micropython.native
    def _torn(self, r):
        # The writer took buf[0:r] of a frame, 0 < r < n. Where did the cut fall?
        # Walk the COBS code bytes: inside a block, the block's code byte is on
        # the wire and promises more bytes than a delimiter now leaves it (COBS
        # decoding fails); exactly at a block boundary the prefix would decode
        # as a shorter frame (and its last bytes be taken for a CRC), so a
        # 0xFF code byte goes first, promising 254 bytes that never come.
        self.frames_torn = _add(self.frames_torn, 1)
        buf = self._buf
        cp = 0
        while cp < r:
            cp += buf[cp]
        self._line = _END if cp > r else _BREAK
        self._slow = True

    @micropython.native
    def _end_line(self):
        # End the frame left open on the wire so that it cannot decode; True
        # when the line is back at a frame boundary. Each step may be cut
        # short by the writer; the state says what is left to do.
        line = self._line
        if line == _FILL:
            while self._fill > 0:
                r = self._write(_FILL_CHUNK, 64 if self._fill > 64 else self._fill)
                if r <= 0:
                    return False  # a raise adds at most bytes that are not 0x00: harmless
                self._fill -= r
            line = self._line = _END
        if line == _BREAK:
            r = self._write(_BREAK_BYTES, 2)
            if r <= 0:
                return False
            if r == 1:
                self._line = _END  # the 0xFF is out: now inside a 254-byte block
                return False
        else:
            r = self._write(_END_BYTES, 1)
            if r <= 0:
                return False
        self._line = _CLEAN
        self._set_slow()
        return True

    @micropython.native
    def _write(self, buf, n):
        # Hand buf[0:n] to the writer: the count it took (n or more means all),
        # 0 for None, -1 when it raised (counted in write_errors).
        try:
            if self._sized:
                r = self._wr(buf, n)
            elif buf is self._buf:
                r = self._wr(self._padded(n))
            else:
                r = self._wr(buf)  # one of the constants above, whole
        except Exception as e:  # noqa: BLE001 - a raising writer is counted, never propagated
            clear_traceback(e)  # a preallocated error raised again must not grow
            self.write_errors = _add(self.write_errors, 1)
            if self._sized and isinstance(e, TypeError) and not self._views:
                self._plain()  # sized=True given, but the writer takes write(buf) only
            return -1
        if r is None:
            return 0
        return r

    def _plain(self):
        # Views for a writer with only write(buf) (made once, here).
        self._sized = False
        self._slow = True
        mv = memoryview(self._buf)
        self._views = [mv[:size] for size in _PLAIN_SIZES]
        self._zeros = bytes(_PAD_MAX)

    @micropython.native
    def _padded(self, n):
        # The smallest prepared view that holds buf[0:n], zero-padded after n.
        if n <= 128:
            i = (n - 9) >> 3 if n > 16 else 0
        else:
            i = 15
            while _PLAIN_SIZES[i] < n:
                i += 1
        size = _PLAIN_SIZES[i]
        copy_bytes(self._buf, n, self._zeros, size - n)
        return self._views[i]
