# cellex.wire: encoder for the UART telemetry wire format v1 (docs/wire-format.md).
# MIT licence.
#
# FrameEncoder fills one preallocated bytearray with a complete frame:
# COBS(body + CRC-16/IBM-3740) followed by the 0x00 delimiter. The body is
# written at _RAW and COBS-encoded in place towards offset 0, so one buffer of
# FRAME_MAX bytes serves every frame. Nothing here allocates after the
# encoder is built; every int stays below 2**30 (no big ints on 32-bit boards).
from array import array

from cellex.compat import const, copy_bytes, copy_str

# Public API values: format version, frame types, limits (bytes of UTF-8).
VERSION = const(1)
TYPE_FAILURE = const(1)
TYPE_DROP_REPORT = const(2)
TYPE_HEARTBEAT = const(3)
MAX_PATH_DEPTH = const(8)
MAX_SEGMENT = const(24)
MAX_ERROR_TYPE = const(32)
MAX_REASON = const(48)
MAX_DESCRIPTION = const(48)
MAX_META = const(24)
MAX_TAG_KEY = const(16)
MAX_TAG_VALUE = const(24)
MAX_TAGS = const(4)
# Largest failure frame on the wire (COBS overhead and delimiter included).
FRAME_MAX = const(599)

# Header byte: bits 7-5 version, bit 4 stream start, bits 3-2 type, bits 1-0 per type
_V1 = const(0x20)  # VERSION << 5
_START = const(0x10)
_H_EXTRAS = const(0x01)  # failure: extras byte follows F
_H_PATH = const(0x02)  # failure: path has at least one segment
# Failure flags byte F: bits 0-3 stage (saturating at 15), then presence bits
_F_COMPONENT = const(0x10)
_F_ENDPOINT = const(0x20)
_F_TRANSPORT = const(0x40)
_F_TAGS = const(0x80)
# str8 header: bit 7 truncated, bit 6 per field (see the spec), bits 0-5 length
_S_TRUNCATED = const(0x80)
_S_MARK = const(0x40)
_S_LEN = const(0x3F)
# Numbers on the wire are taken modulo 2**30 (MicroPython's small-int range).
_U30 = const(0x3FFFFFFF)
# The body is written at _RAW and COBS-encoded in place to offset 0; COBS adds
# one byte per started 254-byte block, so _RAW = 3 covers bodies up to 762 bytes.
_RAW = const(3)
_BUF_SIZE = const(603)

# Well-known exception class names, sent as one byte (index = position). Part
# of format version 1: append-only, and appending needs a new version.
ERROR_NAMES = (
    "Exception",
    "OSError",
    "ValueError",
    "RuntimeError",
    "TypeError",
    "KeyError",
    "IndexError",
    "AttributeError",
    "MemoryError",
    "ZeroDivisionError",
    "NotImplementedError",
    "AssertionError",
    "OverflowError",
    "StopIteration",
    "ImportError",
    "NameError",
    "LookupError",
    "ArithmeticError",
    "UnicodeError",
    "KeyboardInterrupt",
    "SystemExit",
    "GeneratorExit",
    "EOFError",
    "TimeoutError",
    "CancelledError",
    "BaseException",
    "SyntaxError",
    "IndentationError",
    "StopAsyncIteration",
    "NotImplemented",
)
_ERROR_CODES = {}
for _i in range(len(ERROR_NAMES)):
    _ERROR_CODES[ERROR_NAMES[_i]] = _i

# CRC-16/IBM-3740 (a.k.a. CCITT-FALSE): poly 0x1021, init 0xFFFF, MSB first.
_CRC_TABLE = array("H", bytearray(512))
for _i in range(256):
    _c = _i << 8
    for _ in range(8):
        _c = ((_c << 1) ^ 0x1021) if _c & 0x8000 else (_c << 1)
    _CRC_TABLE[_i] = _c & 0xFFFF


def crc16(buf, start, end):
    """CRC-16/IBM-3740 of buf[start:end]; no allocation."""
    tab = _CRC_TABLE
    crc = 0xFFFF
    for i in range(start, end):
        crc = ((crc << 8) & 0xFFFF) ^ tab[((crc >> 8) ^ buf[i]) & 0xFF]
    return crc


def _put_varint(buf, p, v):
    # Unsigned LEB128 of a value below 2**30: at most 5 bytes.
    while v >= 0x80:
        buf[p] = (v & 0x7F) | 0x80
        v >>= 7
        p += 1
    buf[p] = v
    return p + 1


def _put_str(buf, p, s, cap):
    # str8: header (bit 7 truncated, bits 0-5 length) then the UTF-8 bytes.
    if type(s) is not str:
        # Not text (e.g. an int tag value): sent empty and marked truncated.
        # copy_str must never see it: MicroPython's viper copy would read it as a pointer.
        buf[p] = _S_TRUNCATED
        return p + 1
    n = copy_str(buf, p + 1, s, cap)
    if n < 0:
        n = -1 - n
        buf[p] = n | _S_TRUNCATED
    else:
        buf[p] = n
    return p + 1 + n


def _sat(v, top):
    if v < 0:
        return 0
    if v > top:
        return top
    return v


class FrameEncoder:
    """Encodes frames into `buf` (a bytearray of FRAME_MAX + 3 bytes).

    Each encode_* method writes one complete frame at buf[0:n] (trailing 0x00
    delimiter included) and returns n. `seq` is the stream's u16 sequence
    number; `start` marks the first frame of a stream (after boot). Allocates
    nothing; not reentrant (one encoder per stream).
    """

    def __init__(self):
        self.buf = bytearray(_BUF_SIZE)

    def encode_failure(self, seq, snap, start=False):
        buf = self.buf
        p = self._header(TYPE_FAILURE, seq, snap.timestamp_ms, start)
        path = snap.path
        depth = len(path)
        omitted = 0
        if depth > MAX_PATH_DEPTH:
            omitted = depth - MAX_PATH_DEPTH
        ntags = _sat(snap.tag_count, MAX_TAGS)
        flags = _sat(snap.stage, 15)
        if ntags:
            flags |= _F_TAGS
        h = buf[_RAW]
        if depth:
            h |= _H_PATH
        q = p + 1
        dropped = snap.tags_dropped
        if dropped > 0 or omitted:
            h |= _H_EXTRAS
            buf[q] = _sat(dropped, 15) | (_sat(omitted, 15) << 4)
            q += 1
        buf[_RAW] = h
        q = _put_varint(buf, q, snap.sequence & _U30)
        q = _put_varint(buf, q, snap.actor_id & _U30)
        code = _ERROR_CODES.get(snap.error_type)
        if code is None:
            q = _put_str(buf, q, snap.error_type, MAX_ERROR_TYPE)
        else:
            buf[q] = _S_MARK | code  # interned name
            q += 1
        last = q
        for i in range(omitted, depth):
            last = q
            q = _put_str(buf, q, path[i], MAX_SEGMENT)
        if depth:
            buf[last] |= _S_MARK  # last segment
        r = q
        q = _put_str(buf, q, snap.reason, MAX_REASON)
        # The description is usually the reason's own copy: sent only when it differs.
        dn = snap.description_len
        dt = snap.description_truncated
        if dn > MAX_DESCRIPTION:
            dn = MAX_DESCRIPTION
            dt = True
        desc = snap._description
        same = (buf[r] & _S_LEN) == dn and ((buf[r] & _S_TRUNCATED) != 0) == bool(dt)
        if same:
            for i in range(dn):
                if buf[r + 1 + i] != desc[i]:
                    same = False
                    break
        if not same:
            buf[r] |= _S_MARK  # a description follows
            buf[q] = (dn | _S_TRUNCATED) if dt else dn
            copy_bytes(buf, q + 1, desc, dn)
            q += 1 + dn
        s = snap.component
        if s:
            flags |= _F_COMPONENT
            q = _put_str(buf, q, s, MAX_META)
        s = snap.endpoint
        if s:
            flags |= _F_ENDPOINT
            q = _put_str(buf, q, s, MAX_META)
        s = snap.transport
        if s:
            flags |= _F_TRANSPORT
            q = _put_str(buf, q, s, MAX_META)
        for i in range(ntags):
            t = snap.tag(i)
            k = q
            q = _put_str(buf, q, t.key, MAX_TAG_KEY)
            if i == ntags - 1:
                buf[k] |= _S_MARK  # last tag
            q = _put_str(buf, q, t.value, MAX_TAG_VALUE)
        buf[p] = flags
        return self._finish(q)

    def encode_drop_report(self, seq, timestamp_ms, dropped, dropped_total, start=False):
        """A drop report: `dropped` failures lost since the last report, `dropped_total` since start."""
        buf = self.buf
        q = self._header(TYPE_DROP_REPORT, seq, timestamp_ms, start)
        q = _put_varint(buf, q, dropped & _U30)
        q = _put_varint(buf, q, dropped_total & _U30)
        return self._finish(q)

    def encode_heartbeat(
        self, seq, timestamp_ms, failures, frames_sent, frames_dropped, write_errors, snapshots_dropped,
        start=False,
    ):
        """A heartbeat carrying the back-end's counters (each modulo 2**30)."""
        buf = self.buf
        q = self._header(TYPE_HEARTBEAT, seq, timestamp_ms, start)
        q = _put_varint(buf, q, failures & _U30)
        q = _put_varint(buf, q, frames_sent & _U30)
        q = _put_varint(buf, q, frames_dropped & _U30)
        q = _put_varint(buf, q, write_errors & _U30)
        q = _put_varint(buf, q, snapshots_dropped & _U30)
        return self._finish(q)

    def _header(self, frame_type, seq, timestamp_ms, start):
        buf = self.buf
        h = _V1 | (frame_type << 2)
        if start:
            h |= _START
        buf[_RAW] = h
        buf[_RAW + 1] = seq & 0xFF
        buf[_RAW + 2] = (seq >> 8) & 0xFF
        t = timestamp_ms & _U30
        buf[_RAW + 3] = t & 0xFF
        buf[_RAW + 4] = (t >> 8) & 0xFF
        buf[_RAW + 5] = (t >> 16) & 0xFF
        buf[_RAW + 6] = t >> 24
        return _RAW + 7

    def _finish(self, q):
        # Append the CRC, COBS-encode buf[_RAW:q+2] in place to buf[0:], add the delimiter.
        buf = self.buf
        crc = crc16(buf, _RAW, q)
        buf[q] = crc & 0xFF
        buf[q + 1] = crc >> 8
        end = q + 2
        cp = 0  # where the current block's code byte goes
        w = 1
        code = 1
        r = _RAW
        while r < end:
            b = buf[r]
            r += 1
            if b:
                buf[w] = b
                w += 1
                code += 1
                if code == 0xFF and r < end:
                    buf[cp] = 0xFF
                    cp = w
                    w += 1
                    code = 1
            else:
                buf[cp] = code
                cp = w
                w += 1
                code = 1
        buf[cp] = code
        buf[w] = 0
        return w + 1
