# cellex.telemetry_uart: UartFailureTelemetry, the compact binary back-end (docs/wire-format.md).
# MIT licence.
#
# Each failure is encoded into one preallocated frame buffer and handed to
# writer.write() once; nothing waits. A frame the writer does not take whole
# (short count, None, or an exception) is dropped and counted, and the next
# frame that goes out is preceded by a drop report, so drops reach the host
# in-band. Zero allocation per failure with a MicroPython stream writer
# (machine.UART, a file, a socket); see _write() for other writers.
from cellex.compat import clear_traceback, const, ticks_ms
from cellex.wire import FrameEncoder

_U30 = const(0x3FFFFFFF)
# Written before the next frame after a partial or failed write: it ends the
# torn frame on the wire so the next frame decodes.
_SYNC = b"\x00"


class UartFailureTelemetry:
    """Failure telemetry back-end writing wire-format frames to `writer`.

    writer  any object with write(buf) -> count: a machine.UART configured
            non-blocking (timeout=0, txbuf >= wire.FRAME_MAX), a file, a
            pyserial port. A return value other than the full length (a short
            count, None) means the frame did not fit and is dropped.
    clock   ticks_ms-like callable for drop-report and heartbeat timestamps.
    sized   True: call writer.write(buf, n) (MicroPython streams: machine.UART,
            files, sockets; allocation-free); False: writer.write(view[:n]) (a
            memoryview slice, which allocates on MicroPython); None (default):
            probe once here with a zero-length write(buf, 0), and use the sized
            form unless the writer rejects it with TypeError.

    Counters (attributes, each wraps at 2**30):
      failures            on_failure() calls
      frames_sent         frames written whole (failures, drop reports, heartbeats)
      frames_dropped      failures not written (each one reported in-band later)
      drops_reported      dropped failures the host has been told about
      drops_pending       dropped failures not yet reported
      heartbeats_dropped  heartbeats not written (not reported: counters catch up)
      write_errors        writer.write() or writer.flush() raised
      encode_errors       a snapshot could not be encoded (e.g. a path that is not a tuple);
                          a field that is not a str is sent empty and marked truncated
      bytes_sent          bytes of whole frames written
    """

    def __init__(self, writer, clock=ticks_ms, sized=None):
        self._writer = writer
        self._clock = clock
        self._enc = FrameEncoder()
        self._buf = self._enc.buf
        self._view = memoryview(self._buf)
        if sized is None:
            # Done at start, while allocating is allowed (a TypeError allocates).
            try:
                writer.write(self._buf, 0)
                sized = True
            except TypeError:
                sized = False
            except Exception:  # noqa: BLE001 - e.g. a closed port: decide later
                sized = True
        self._sized = sized
        self._seq = 0
        self._start = True
        self._sync = True
        self.failures = 0
        self.frames_sent = 0
        self.frames_dropped = 0
        self.drops_reported = 0
        self.drops_pending = 0
        self.heartbeats_dropped = 0
        self.write_errors = 0
        self.encode_errors = 0
        self.bytes_sent = 0
        self._drops_total = 0

    def on_failure(self, snapshot):
        """Encode and write one failure frame. Never raises; allocates nothing."""
        self.failures = (self.failures + 1) & _U30
        if self.drops_pending:
            self._report_drops()
        try:
            n = self._enc.encode_failure(self._seq, snapshot, self._start)
        except Exception as e:  # noqa: BLE001 - a back-end never raises into the runtime
            clear_traceback(e)
            self.encode_errors = (self.encode_errors + 1) & _U30
            self._dropped()
            return
        if not self._send(n):
            self._dropped()

    def heartbeat(self, snapshots_dropped=0):
        """Write a heartbeat (stats) frame; True when it went out whole. Never raises."""
        if self.drops_pending:
            self._report_drops()
        n = self._enc.encode_heartbeat(
            self._seq, self._clock(), self.failures, self.frames_sent, self.frames_dropped,
            self.write_errors, snapshots_dropped & _U30, self._start,
        )
        if self._send(n):
            return True
        self.heartbeats_dropped = (self.heartbeats_dropped + 1) & _U30
        return False

    def flush(self):
        """Synchronous: report pending drops, then wait for the writer to drain.

        Call before a deliberate reset so the last failure reaches the host.
        Returns True when no drop is left unreported. Never raises.
        """
        if self.drops_pending:
            self._report_drops()
        try:
            flush = getattr(self._writer, "flush", None)
            if flush is not None:
                flush()
        except Exception as e:  # noqa: BLE001
            clear_traceback(e)
            self.write_errors = (self.write_errors + 1) & _U30
        return self.drops_pending == 0

    def _dropped(self):
        self.frames_dropped = (self.frames_dropped + 1) & _U30
        self.drops_pending += 1
        self._drops_total = (self._drops_total + 1) & _U30

    def _report_drops(self):
        pending = self.drops_pending
        n = self._enc.encode_drop_report(self._seq, self._clock(), pending, self._drops_total, self._start)
        if self._send(n):
            self.drops_pending = 0
            self.drops_reported = (self.drops_reported + pending) & _U30

    def _send(self, n):
        # Write buf[0:n]; on success the frame's sequence number is used up.
        if self._sync:
            if self._write(_SYNC, 1) != 1:
                return False
            self._sync = False
        r = self._write(self._buf, n)
        if r == n:
            self._seq = (self._seq + 1) & 0xFFFF
            self._start = False
            self.frames_sent = (self.frames_sent + 1) & _U30
            self.bytes_sent = (self.bytes_sent + n) & _U30
            return True
        if r:
            self._sync = True  # a torn frame is on the wire
        return False

    def _write(self, buf, n):
        # Returns the count written, 0 for None, -1 when the writer raised.
        w = self._writer
        try:
            if self._sized:
                try:
                    r = w.write(buf, n)
                except TypeError:
                    self._sized = False
                    r = self._write_slice(buf, n)
            else:
                r = self._write_slice(buf, n)
        except Exception as e:  # noqa: BLE001 - a raising writer is counted, never propagated
            clear_traceback(e)  # a preallocated error raised again must not grow
            self.write_errors = (self.write_errors + 1) & _U30
            self._sync = True
            return -1
        if r is None:
            return 0
        return r

    def _write_slice(self, buf, n):
        if n == len(buf):
            return self._writer.write(buf)
        return self._writer.write(self._view[:n])
