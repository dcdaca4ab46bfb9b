"""Telemetry captures: the raw bytes the monitor read, each chunk with its host time.

The file is a classic libpcap capture (the format tcpdump and Wireshark read), so it needs no
new tooling to inspect:

- global header, 24 bytes, little-endian: magic ``0xA1B2C3D4`` (microsecond timestamps),
  version 2.4, thiszone 0, sigfigs 0, snaplen 65535, link type 147 (``LINKTYPE_USER0``:
  "private use", here: raw bytes of a cellex UART telemetry stream, docs/wire-format.md);
- one record per read from the port: ``ts_sec`` (u32), ``ts_usec`` (u32) - the host's wall
  clock (Unix time, UTC) when the bytes were read - ``incl_len`` (u32) = ``orig_len`` (u32) =
  the chunk's length (1..65535), then the bytes exactly as read.

Chunk boundaries are wherever the serial driver cut the stream, not frame boundaries: the
decoder reassembles frames, so a replay decodes exactly what the live monitor decoded. The
reader also takes big-endian captures; a capture that ends inside a record (the monitor was
killed mid-write) yields every whole record and reports the cut.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from typing import BinaryIO

LINKTYPE_USER0 = 147
MAX_CHUNK = 65535  # snaplen: a writer splits longer reads

_MAGIC_US = 0xA1B2C3D4
_GLOBAL = "IHHiIII"  # magic, version major, minor, thiszone, sigfigs, snaplen, link type
_RECORD = "IIII"  # ts_sec, ts_usec, incl_len, orig_len
_GLOBAL_LEN = struct.calcsize("<" + _GLOBAL)
_RECORD_LEN = struct.calcsize("<" + _RECORD)


def host_now() -> float:
    """The wall clock (Unix time) to the microsecond, as a capture keeps it: the live monitor
    stamps its reads with this, so live and replayed lines print the same host times."""
    sec, usec = divmod(round(time.time() * 1_000_000), 1_000_000)
    return _seconds(sec, usec)


def _seconds(sec: int, usec: int) -> float:
    return sec + usec / 1_000_000


class CaptureError(ValueError):
    """The file is not a capture this reader understands (the message says why)."""


class CaptureWriter:
    """Appends chunks to a capture; each write is flushed, so a killed monitor loses at most one."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        stream.write(struct.pack("<" + _GLOBAL, _MAGIC_US, 2, 4, 0, 0, MAX_CHUNK, LINKTYPE_USER0))
        stream.flush()

    def write(self, host_time: float, data: bytes) -> None:
        """Record `data` as read at `host_time` (seconds since the Unix epoch)."""
        micros = round(host_time * 1_000_000)
        sec, usec = divmod(micros, 1_000_000)
        for start in range(0, len(data), MAX_CHUNK):
            piece = data[start : start + MAX_CHUNK]
            self._stream.write(struct.pack("<" + _RECORD, sec, usec, len(piece), len(piece)) + piece)
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


class CaptureReader:
    """Iterates (host_time, bytes) over a capture; `cut_bytes` > 0 afterwards if it ended mid-record."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self.cut_bytes = 0
        head = _read_exactly(stream, _GLOBAL_LEN)
        if len(head) < _GLOBAL_LEN:
            raise CaptureError("not a capture: %d bytes, shorter than a pcap header" % len(head))
        for order in "<>":
            fields = struct.unpack(order + _GLOBAL, head)
            if fields[0] == _MAGIC_US:
                break
        else:
            raise CaptureError("not a capture: no microsecond pcap magic at the start")
        if fields[6] != LINKTYPE_USER0:
            raise CaptureError("pcap link type %d, a telemetry capture has %d" % (fields[6], LINKTYPE_USER0))
        self._order = order

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        while True:
            head = _read_exactly(self._stream, _RECORD_LEN)
            if not head:
                return
            if len(head) < _RECORD_LEN:
                self.cut_bytes = len(head)
                return
            sec, usec, length, _ = struct.unpack(self._order + _RECORD, head)
            data = _read_exactly(self._stream, length)
            if len(data) < length:
                self.cut_bytes = _RECORD_LEN + len(data)
                return
            yield _seconds(sec, usec), data


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    """Up to `n` bytes; fewer only at end of file (a pipe may return short reads before that)."""
    parts = []
    while n:
        data = stream.read(n)
        if not data:
            break
        parts.append(data)
        n -= len(data)
    return b"".join(parts)
