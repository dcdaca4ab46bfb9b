# cellex.wire: encoder for the UART telemetry wire format v1 (docs/wire-format.md).
# MIT licence.
#
# A frame is built in one preallocated bytearray: the body is written at
# offset 1, then _seal() appends CRC-16/IBM-3740, COBS-encodes body + CRC in
# place (the code byte goes at offset 0) and adds the 0x00 delimiter, so one
# buffer of BUF_SIZE bytes serves every frame. Nothing here allocates once
# the buffer exists, and every int stays below 2**30 (no big ints on a
# 32-bit board).
#
# Two implementations of the hot part, chosen once at import:
#   MicroPython: @micropython.viper functions (a failure frame is one viper
#     call: fields, CRC and COBS as machine-code loops over ptr8, no bytecode
#     per byte and no frame on the heap); they compile for armv6m, armv7emsp
#     and x64 (`mpy-cross -march=...`).
#   CPython: plain Python twins (binascii.crc_hqx is the same CRC).
# Both must give the same bytes: docs/wire-vectors.json and a corpus digest in
# host_tests/portable/test_wire_encoder.py hold them to it.
from cellex.compat import MICROPYTHON, const, copy_bytes, copy_str, micropython

# Public API values: format version, frame types, limits (bytes of UTF-8).
VERSION = const(1)
TYPE_EXTENDED = const(0)  # a kind byte follows the header (docs/boot-frame.md, §12)
TYPE_FAILURE = const(1)
TYPE_DROP_REPORT = const(2)
TYPE_HEARTBEAT = const(3)
# Kinds of extended frames (the byte after the header).
KIND_BOOT = const(1)  # encode_boot(), sent by cellex.boot_frame
KIND_SUPERVISION = const(2)  # a failure a supervisor decided (encode_supervision)
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
# Size of a frame buffer (FrameEncoder.buf): FRAME_MAX + _RAW + 1.
BUF_SIZE = const(603)

# Header byte: bits 7-5 version, bit 4 stream start, bits 3-2 type, bits 1-0 per type
_V1 = const(0x20)  # VERSION << 5
_START = const(0x10)
_H_FAILURE = const(0x24)  # _V1 | TYPE_FAILURE << 2
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
# U30 is the one definition of that mask: the host decoder, the boot frame,
# the root and the UART back-end import it. A plain global, not a const(),
# because native code reads it: native code on ARMv6-M (RP2040) loads a
# constant above 0x7FFF (0xFFFF in viper) from a word placed in the code, and
# MicroPython 1.28 freezes ARMv6-M native code only 2-byte aligned, so that
# load can read the wrong word (a global lookup allocates nothing; the viper
# code builds the mask from small constants). host_tests/test_wire_decoder.py
# checks that this module's native code holds no such load.
U30 = 0x3FFFFFFF
# The body is written at _RAW, after the first COBS code byte. Body + CRC of
# up to 254 bytes (every frame but the longest) have no COBS block of 254
# non-zero bytes, so COBS only replaces each zero in place by the distance to
# the next one (one pass, fused with the CRC). A longer body is first moved
# to _RAW_LONG: COBS may insert a code byte per started 254 bytes, and
# _RAW_LONG = 3 leaves room for two (bodies up to 762 bytes). The largest
# body (every field at its limit) is 595 bytes with its CRC, so the viper
# code, which does not check bounds, stays inside the buffer.
_RAW = const(1)
_RAW_LONG = const(3)
_SHORT = const(254)  # longest body + CRC sealed in place without moving it
_F_AT = const(8)  # _RAW + 7: the failure flags byte F

# Tables, in one bytes literal: frozen, it stays in flash and takes no RAM
# (and the viper code fetches one global, not five).
#
# CRC-16/IBM-3740 (a.k.a. CCITT-FALSE): poly 0x1021, init 0xFFFF, MSB first.
# The usual 256-entry table's high and low bytes as two tables, so that a
# step is two lookups and two XORs of bytes:
#   x = hi ^ byte; hi = lo ^ CRC_HI[x]; lo = CRC_LO[x]
#
# Well-known exception class names are sent as one byte (index = position in
# ERROR_NAMES, length-prefixed entries). Part of format version 1:
# append-only, and appending needs a new version. Finding one without
# comparing it with all 30: a hash of its bytes, h = (h * 83 + byte) & 0xFFFF,
# picks slot (h >> 3) & 63 of NAME_SLOTS, which holds 1 + the name's code (0:
# none; no two names share a slot); NAME_AT[2 * code] (u16, little-endian) is
# where its entry starts in ERROR_NAMES; then the bytes are compared.
# host_tests/portable/test_wire_encoder.py checks the slots against the names.
_CRC_HI = const(0)
_CRC_LO = const(256)
_NAME_SLOTS = const(512)
_NAME_AT = const(576)
_ERROR_NAMES = const(636)
_N_NAMES = const(30)
_NAME_HASH_MUL = const(83)
_NAME_MAX = const(19)  # longest well-known name
_TABLES = (
    # CRC_HI [0:256]
    b"\x00\x10\x20\x30\x40\x50\x60\x70\x81\x91\xa1\xb1\xc1\xd1\xe1\xf1"
    b"\x12\x02\x32\x22\x52\x42\x72\x62\x93\x83\xb3\xa3\xd3\xc3\xf3\xe3"
    b"\x24\x34\x04\x14\x64\x74\x44\x54\xa5\xb5\x85\x95\xe5\xf5\xc5\xd5"
    b"\x36\x26\x16\x06\x76\x66\x56\x46\xb7\xa7\x97\x87\xf7\xe7\xd7\xc7"
    b"\x48\x58\x68\x78\x08\x18\x28\x38\xc9\xd9\xe9\xf9\x89\x99\xa9\xb9"
    b"\x5a\x4a\x7a\x6a\x1a\x0a\x3a\x2a\xdb\xcb\xfb\xeb\x9b\x8b\xbb\xab"
    b"\x6c\x7c\x4c\x5c\x2c\x3c\x0c\x1c\xed\xfd\xcd\xdd\xad\xbd\x8d\x9d"
    b"\x7e\x6e\x5e\x4e\x3e\x2e\x1e\x0e\xff\xef\xdf\xcf\xbf\xaf\x9f\x8f"
    b"\x91\x81\xb1\xa1\xd1\xc1\xf1\xe1\x10\x00\x30\x20\x50\x40\x70\x60"
    b"\x83\x93\xa3\xb3\xc3\xd3\xe3\xf3\x02\x12\x22\x32\x42\x52\x62\x72"
    b"\xb5\xa5\x95\x85\xf5\xe5\xd5\xc5\x34\x24\x14\x04\x74\x64\x54\x44"
    b"\xa7\xb7\x87\x97\xe7\xf7\xc7\xd7\x26\x36\x06\x16\x66\x76\x46\x56"
    b"\xd9\xc9\xf9\xe9\x99\x89\xb9\xa9\x58\x48\x78\x68\x18\x08\x38\x28"
    b"\xcb\xdb\xeb\xfb\x8b\x9b\xab\xbb\x4a\x5a\x6a\x7a\x0a\x1a\x2a\x3a"
    b"\xfd\xed\xdd\xcd\xbd\xad\x9d\x8d\x7c\x6c\x5c\x4c\x3c\x2c\x1c\x0c"
    b"\xef\xff\xcf\xdf\xaf\xbf\x8f\x9f\x6e\x7e\x4e\x5e\x2e\x3e\x0e\x1e"
    # CRC_LO [256:512]
    b"\x00\x21\x42\x63\x84\xa5\xc6\xe7\x08\x29\x4a\x6b\x8c\xad\xce\xef"
    b"\x31\x10\x73\x52\xb5\x94\xf7\xd6\x39\x18\x7b\x5a\xbd\x9c\xff\xde"
    b"\x62\x43\x20\x01\xe6\xc7\xa4\x85\x6a\x4b\x28\x09\xee\xcf\xac\x8d"
    b"\x53\x72\x11\x30\xd7\xf6\x95\xb4\x5b\x7a\x19\x38\xdf\xfe\x9d\xbc"
    b"\xc4\xe5\x86\xa7\x40\x61\x02\x23\xcc\xed\x8e\xaf\x48\x69\x0a\x2b"
    b"\xf5\xd4\xb7\x96\x71\x50\x33\x12\xfd\xdc\xbf\x9e\x79\x58\x3b\x1a"
    b"\xa6\x87\xe4\xc5\x22\x03\x60\x41\xae\x8f\xec\xcd\x2a\x0b\x68\x49"
    b"\x97\xb6\xd5\xf4\x13\x32\x51\x70\x9f\xbe\xdd\xfc\x1b\x3a\x59\x78"
    b"\x88\xa9\xca\xeb\x0c\x2d\x4e\x6f\x80\xa1\xc2\xe3\x04\x25\x46\x67"
    b"\xb9\x98\xfb\xda\x3d\x1c\x7f\x5e\xb1\x90\xf3\xd2\x35\x14\x77\x56"
    b"\xea\xcb\xa8\x89\x6e\x4f\x2c\x0d\xe2\xc3\xa0\x81\x66\x47\x24\x05"
    b"\xdb\xfa\x99\xb8\x5f\x7e\x1d\x3c\xd3\xf2\x91\xb0\x57\x76\x15\x34"
    b"\x4c\x6d\x0e\x2f\xc8\xe9\x8a\xab\x44\x65\x06\x27\xc0\xe1\x82\xa3"
    b"\x7d\x5c\x3f\x1e\xf9\xd8\xbb\x9a\x75\x54\x37\x16\xf1\xd0\xb3\x92"
    b"\x2e\x0f\x6c\x4d\xaa\x8b\xe8\xc9\x26\x07\x64\x45\xa2\x83\xe0\xc1"
    b"\x1f\x3e\x5d\x7c\x9b\xba\xd9\xf8\x17\x36\x55\x74\x93\xb2\xd1\xf0"
    # NAME_SLOTS [512:576]
    b"\x00\x00\x07\x00\x00\x03\x0e\x00\x00\x10\x04\x00\x1c\x01\x00\x02"
    b"\x00\x08\x00\x00\x14\x1e\x0f\x17\x0d\x00\x00\x00\x00\x00\x18\x00"
    b"\x05\x0c\x15\x12\x00\x0b\x1d\x16\x13\x00\x00\x1b\x00\x09\x19\x00"
    b"\x00\x11\x00\x06\x00\x00\x00\x00\x1a\x00\x00\x00\x00\x00\x00\x0a"
    # NAME_AT [576:636]
    b"\x00\x00\x0a\x00\x12\x00\x1d\x00\x2a\x00\x34\x00\x3d\x00\x48\x00"
    b"\x57\x00\x63\x00\x75\x00\x89\x00\x98\x00\xa6\x00\xb4\x00\xc0\x00"
    b"\xca\x00\xd6\x00\xe6\x00\xf3\x00\x05\x01\x10\x01\x1e\x01\x27\x01"
    b"\x34\x01\x43\x01\x51\x01\x5d\x01\x6e\x01\x81\x01"
    # ERROR_NAMES [636:1036]
    b"\x09Exception"  # 0
    b"\x07OSError"  # 1
    b"\x0aValueError"  # 2
    b"\x0cRuntimeError"  # 3
    b"\x09TypeError"  # 4
    b"\x08KeyError"  # 5
    b"\x0aIndexError"  # 6
    b"\x0eAttributeError"  # 7
    b"\x0bMemoryError"  # 8
    b"\x11ZeroDivisionError"  # 9
    b"\x13NotImplementedError"  # 10
    b"\x0eAssertionError"  # 11
    b"\x0dOverflowError"  # 12
    b"\x0dStopIteration"  # 13
    b"\x0bImportError"  # 14
    b"\x09NameError"  # 15
    b"\x0bLookupError"  # 16
    b"\x0fArithmeticError"  # 17
    b"\x0cUnicodeError"  # 18
    b"\x11KeyboardInterrupt"  # 19
    b"\x0aSystemExit"  # 20
    b"\x0dGeneratorExit"  # 21
    b"\x08EOFError"  # 22
    b"\x0cTimeoutError"  # 23
    b"\x0eCancelledError"  # 24
    b"\x0dBaseException"  # 25
    b"\x0bSyntaxError"  # 26
    b"\x10IndentationError"  # 27
    b"\x12StopAsyncIteration"  # 28
    b"\x0eNotImplemented"  # 29
)


def error_names():
    """The well-known error names, index = wire code (allocates; for hosts and tests)."""
    names = []
    p = _ERROR_NAMES
    for _ in range(_N_NAMES):
        n = _TABLES[p]
        names.append(str(_TABLES[p + 1 : p + 1 + n], "ascii"))
        p += 1 + n
    return tuple(names)


if MICROPYTHON:
    # Builtins as module globals: a builtin's name is found by a linear
    # search of the builtins table after missing the module's own dict; a
    # module global is one hashed lookup.
    _str = str
    _len = len

    @micropython.viper
    def error_code(name) -> int:
        """The wire code of a well-known error name (its index in error_names()), or -1.

        No allocation. (encode_failure does the same lookup inline: calling
        this from there makes a typical frame about 6 % slower on the unix port.)
        """
        if name.__class__ is not _str:
            return -1
        th = ptr8(_TABLES)  # noqa: F821
        src = ptr8(name)  # noqa: F821
        n = 0
        v = 0
        while n <= _NAME_MAX:
            b = src[n]
            if b == 0:
                break
            v = (v * _NAME_HASH_MUL + b) & 0xFFFF
            n += 1
        if n > _NAME_MAX:
            return -1
        k = int(th[_NAME_SLOTS + ((v >> 3) & 63)]) - 1
        if k < 0:
            return -1
        p = _ERROR_NAMES + (th[_NAME_AT + 2 * k] | (th[_NAME_AT + 2 * k + 1] << 8))
        if th[p] != n:
            return -1
        i = 0
        while i < n:
            if th[p + 1 + i] != src[i]:
                return -1
            i += 1
        return k

    @micropython.viper
    def crc16(buf: ptr8, start: int, end: int) -> int:  # noqa: F821
        """CRC-16/IBM-3740 of buf[start:end]; no allocation."""
        th = ptr8(_TABLES)  # noqa: F821 - CRC_HI is at offset 0
        tl = ptr8(int(th) + _CRC_LO)  # noqa: F821
        hi = 0xFF
        lo = 0xFF
        i = start
        while i < end:
            x = hi ^ buf[i]
            hi = lo ^ th[x]
            lo = tl[x]
            i += 1
        return (hi << 8) | lo

    @micropython.viper
    def _seal(buf: ptr8, q: int) -> int:  # noqa: F821
        # Append the CRC of body buf[_RAW:q], COBS-encode body + CRC in place
        # to buf[0:], add the delimiter; returns the frame's length on the wire.
        # (The short case is inlined at the end of encode_failure.)
        th = ptr8(_TABLES)  # noqa: F821 - CRC_HI is at offset 0
        tl = ptr8(int(th) + _CRC_LO)  # noqa: F821
        hi = 0xFF
        lo = 0xFF
        if q + 2 - _RAW <= _SHORT:
            prev = 0  # the last code byte / zero, which becomes a code byte
            i = _RAW
            while i < q:
                b = buf[i]
                if b == 0:
                    buf[prev] = i - prev
                    prev = i
                b ^= hi
                hi = lo ^ th[b]
                lo = tl[b]
                i += 1
            b = lo
            buf[q] = b
            if b == 0:
                buf[prev] = q - prev
                prev = q
            q += 1
            b = hi
            buf[q] = b
            if b == 0:
                buf[prev] = q - prev
                prev = q
            q += 1
            buf[prev] = q - prev
            buf[q] = 0
            return q + 1
        # Long body: move it to _RAW_LONG, then COBS from there, writing behind the reader.
        i = q - 1
        while i >= _RAW:
            buf[i + _RAW_LONG - _RAW] = buf[i]
            i -= 1
        i = _RAW_LONG
        end = q + _RAW_LONG - _RAW
        while i < end:
            b = hi ^ buf[i]
            hi = lo ^ th[b]
            lo = tl[b]
            i += 1
        buf[end] = lo
        buf[end + 1] = hi
        end += 2
        cp = 0  # where the current block's code byte goes
        w = 1
        code = 1
        r = _RAW_LONG
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

    @micropython.viper
    def encode_failure(buf: ptr8, i: int, snap, start) -> int:  # noqa: C901, F821
        """Encode failure `snap` as frame number `i` into `buf` (BUF_SIZE bytes); returns its length.

        One call, no allocation, no heap frame. See FrameEncoder.encode_failure.
        """
        # Viper keeps only the first two locals in registers in compiled
        # (.mpy, frozen) code: the arguments. So the frame number arrives in
        # `i`, which is then the byte loops' index, the hottest variable after
        # `buf` (about 10% of the time on an RP2040).
        str_type = _str
        th = ptr8(_TABLES)  # noqa: F821 - CRC_HI is at offset 0
        m30 = 0x7FFF
        m30 = (m30 << 15) | m30  # U30, without a 32-bit literal (see U30)
        path = snap.path
        depth = int(_len(path))
        omitted = 0
        if depth > MAX_PATH_DEPTH:
            omitted = depth - MAX_PATH_DEPTH
        ntags = int(snap.tag_count)
        if ntags < 0:
            ntags = 0
        elif ntags > MAX_TAGS:
            ntags = MAX_TAGS
        flags = int(snap.stage)
        if flags < 0:
            flags = 0
        elif flags > 15:
            flags = 15
        if ntags:
            flags |= _F_TAGS
        h = _H_FAILURE
        if start:
            h |= _START
        if depth:
            h |= _H_PATH
        buf[_RAW + 1] = i & 0xFF
        buf[_RAW + 2] = (i >> 8) & 0xFF
        v = int(snap.timestamp_ms) & m30
        buf[_RAW + 3] = v & 0xFF
        buf[_RAW + 4] = (v >> 8) & 0xFF
        buf[_RAW + 5] = (v >> 16) & 0xFF
        buf[_RAW + 6] = v >> 24
        q = _F_AT + 1
        v = int(snap.tags_dropped)
        if v > 0 or omitted:
            h |= _H_EXTRAS
            if v < 0:
                v = 0
            elif v > 15:
                v = 15
            if omitted > 15:
                v |= 0xF0
            else:
                v |= omitted << 4
            buf[q] = v
            q += 1
        buf[_RAW] = h
        v = int(snap.sequence) & m30
        while v >= 0x80:
            buf[q] = (v & 0x7F) | 0x80
            v >>= 7
            q += 1
        buf[q] = v
        q += 1
        v = int(snap.actor_id) & m30
        while v >= 0x80:
            buf[q] = (v & 0x7F) | 0x80
            v >>= 7
            q += 1
        buf[q] = v
        q += 1
        # The text fields, one str8 each, walked as slots so that one copy loop
        # serves them all: 0 error_type, 1..npath path segments, then reason,
        # then component, endpoint, transport, then tag key, value, key, value...
        et = snap.error_type
        code = -1
        if et.__class__ is str_type:
            # A well-known name? Its length and hash, then one candidate to compare
            # (error_code(), inlined: see there).
            src = ptr8(et)  # noqa: F821
            n = 0
            v = 0
            while n <= _NAME_MAX:
                b = src[n]
                if b == 0:
                    break
                v = (v * _NAME_HASH_MUL + b) & 0xFFFF
                n += 1
            if n <= _NAME_MAX:
                k = int(th[_NAME_SLOTS + ((v >> 3) & 63)]) - 1
                if k >= 0:
                    p = _ERROR_NAMES + (th[_NAME_AT + 2 * k] | (th[_NAME_AT + 2 * k + 1] << 8))
                    if th[p] == n:
                        i = 0
                        while i < n and th[p + 1 + i] == src[i]:
                            i += 1
                        if i == n:
                            code = k
        npath = depth - omitted
        reason_at = npath + 1
        nslots = reason_at + 4 + 2 * ntags
        tags = snap._tags
        t = tags  # then the tag being written
        r = 0  # the reason's str8 header
        last = 0  # the last path segment's / last tag key's str8 header
        k = 0
        if code >= 0:
            buf[q] = _S_MARK | code  # interned name
            q += 1
            k = 1
        while k < nslots:
            if k == 0:
                s = et
                cap = MAX_ERROR_TYPE
            elif k < reason_at:
                s = path[omitted + k - 1]
                cap = MAX_SEGMENT
                last = q
            elif k == reason_at:
                s = snap.reason
                cap = MAX_REASON
                r = q
            elif k < reason_at + 4:
                m = k - reason_at - 1
                if m == 0:
                    s = snap.component
                elif m == 1:
                    s = snap.endpoint
                else:
                    s = snap.transport
                if not s:
                    k += 1
                    continue
                flags |= _F_COMPONENT << m
                cap = MAX_META
            else:
                m = k - reason_at - 4
                if m & 1:
                    s = t.value
                    cap = MAX_TAG_VALUE
                else:
                    t = tags[m >> 1]
                    s = t.key
                    cap = MAX_TAG_KEY
                    last = q
            # str8 of s, at most cap bytes, never cutting a UTF-8 sequence. A
            # MicroPython str is NUL-terminated in memory; one that is not a
            # str is sent empty and marked truncated (never read as a pointer).
            if s.__class__ is str_type:  # type(s), without a call
                src = ptr8(s)  # noqa: F821
                i = 0
                while i < cap:
                    b = src[i]
                    if b == 0:
                        break
                    buf[q + 1 + i] = b
                    i += 1
                if i == cap and src[i] != 0:
                    while i > 0 and (src[i] & 0xC0) == 0x80:
                        i -= 1
                    buf[q] = i | _S_TRUNCATED
                else:
                    buf[q] = i
                q += 1 + i
            else:
                buf[q] = _S_TRUNCATED
                q += 1
            if k == npath and npath:
                buf[last] |= _S_MARK  # last segment
            elif k == reason_at:
                # The description is usually the reason's own copy: sent only when it differs.
                dn = int(snap.description_len)
                dt = 0
                if snap.description_truncated:
                    dt = _S_TRUNCATED
                if dn < 0:
                    dn = 0
                elif dn > MAX_DESCRIPTION:
                    dn = MAX_DESCRIPTION
                    dt = _S_TRUNCATED
                desc = ptr8(snap._description)  # noqa: F821
                same = (buf[r] & (_S_LEN | _S_TRUNCATED)) == (dn | dt)
                if same:
                    i = 0
                    while i < dn:
                        if buf[r + 1 + i] != desc[i]:
                            same = False
                            break
                        i += 1
                if not same:
                    buf[r] |= _S_MARK  # a description follows
                    buf[q] = dn | dt
                    i = 0
                    while i < dn:
                        buf[q + 1 + i] = desc[i]
                        i += 1
                    q += 1 + dn
            elif ntags and k == nslots - 2:
                buf[last] |= _S_MARK  # last tag (on its key)
            k += 1
        buf[_F_AT] = flags
        if q + 2 - _RAW > _SHORT:
            return int(_seal(buf, q))  # buf goes as its address (a small int), and back
        # _seal() for a short body, inlined (calling it makes a typical frame
        # about 7 % slower on the unix port): CRC of the body, each zero
        # replaced by the distance to the next, the CRC appended the same way,
        # then the delimiter.
        tl = ptr8(int(th) + _CRC_LO)  # noqa: F821
        hi = 0xFF
        lo = 0xFF
        prev = 0
        i = _RAW
        while i < q:
            b = buf[i]
            if b == 0:
                buf[prev] = i - prev
                prev = i
            b ^= hi
            hi = lo ^ th[b]
            lo = tl[b]
            i += 1
        b = lo
        buf[q] = b
        if b == 0:
            buf[prev] = q - prev
            prev = q
        q += 1
        b = hi
        buf[q] = b
        if b == 0:
            buf[prev] = q - prev
            prev = q
        q += 1
        buf[prev] = q - prev
        buf[q] = 0
        return q + 1

else:
    from binascii import crc_hqx

    # CPython allocates here and there (slices, ints above 256); the heap
    # tests hold it to a small peak, so no copy of the whole frame is kept.

    def crc16(buf, start, end):
        """CRC-16/IBM-3740 of buf[start:end] (copied 128 bytes at a time)."""
        crc = 0xFFFF
        for i in range(start, end, 128):
            crc = crc_hqx(buf[i : min(i + 128, end)], crc)
        return crc

    def _seal(buf, q):
        # As the viper _seal above, with bytearray.find() for the zeros.
        crc = crc16(buf, _RAW, q)
        buf[q] = crc & 0xFF
        buf[q + 1] = crc >> 8
        end = q + 2
        if end - _RAW <= _SHORT:
            prev = 0
            z = buf.find(0, _RAW, end)
            while z >= 0:
                buf[prev] = z - prev
                prev = z
                z = buf.find(0, z + 1, end)
            buf[prev] = end - prev
            buf[end] = 0
            return end + 1
        buf[_RAW_LONG : end + _RAW_LONG - _RAW] = buf[_RAW:end]
        end += _RAW_LONG - _RAW
        cp = 0
        w = 1
        r = _RAW_LONG
        while True:
            z = buf.find(0, r, end)
            if z < 0:
                z = end
            while z - r >= 254:
                buf[cp] = 0xFF
                buf[w : w + 254] = buf[r : r + 254]
                w += 254
                r += 254
                if r == end:  # ends on a full block: no empty block after it
                    buf[w] = 0
                    return w + 1
                cp = w
                w += 1
            n = z - r
            buf[cp] = n + 1
            buf[w : w + n] = buf[r:z]
            w += n
            r = z + 1
            if z >= end:
                break
            cp = w
            w += 1
        buf[w] = 0
        return w + 1

    _ERROR_CODES = {}
    for _i, _name in enumerate(error_names()):
        _ERROR_CODES[_name] = _i

    def error_code(name):
        """The wire code of a well-known error name (its index in error_names()), or -1."""
        return _ERROR_CODES.get(name, -1) if type(name) is str else -1

    def encode_failure(buf, seq, snap, start):  # noqa: C901
        """Encode failure `snap` as frame `seq` into `buf` (BUF_SIZE bytes); returns its length."""
        path = snap.path
        depth = len(path)
        omitted = 0
        if depth > MAX_PATH_DEPTH:
            omitted = depth - MAX_PATH_DEPTH
        ntags = _sat(snap.tag_count, MAX_TAGS)
        flags = _sat(snap.stage, 15)
        if ntags:
            flags |= _F_TAGS
        h = _H_FAILURE
        if start:
            h |= _START
        if depth:
            h |= _H_PATH
        _header_fields(buf, seq, snap.timestamp_ms)
        q = _F_AT + 1
        dropped = snap.tags_dropped
        if dropped > 0 or omitted:
            h |= _H_EXTRAS
            buf[q] = _sat(dropped, 15) | (_sat(omitted, 15) << 4)
            q += 1
        buf[_RAW] = h
        q = _put_varint(buf, q, snap.sequence & U30)
        q = _put_varint(buf, q, snap.actor_id & U30)
        et = snap.error_type
        code = error_code(et)
        if code < 0:
            q = _put_str(buf, q, et, MAX_ERROR_TYPE)
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
        dn = _sat(snap.description_len, MAX_DESCRIPTION)
        dt = _S_TRUNCATED if snap.description_truncated or snap.description_len > MAX_DESCRIPTION else 0
        desc = snap._description
        if (buf[r] & (_S_LEN | _S_TRUNCATED)) != (dn | dt) or not buf.startswith(desc[:dn], r + 1):
            buf[r] |= _S_MARK  # a description follows
            buf[q] = dn | dt
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
        tags = snap._tags
        for i in range(ntags):
            t = tags[i]
            k = q
            q = _put_str(buf, q, t.key, MAX_TAG_KEY)
            if i == ntags - 1:
                buf[k] |= _S_MARK  # last tag
            q = _put_str(buf, q, t.value, MAX_TAG_VALUE)
        buf[_F_AT] = flags
        return _seal(buf, q)


@micropython.native
def _put_varint(buf, p, v):
    # Unsigned LEB128 of a value below 2**30: at most 5 bytes.
    while v >= 0x80:
        buf[p] = (v & 0x7F) | 0x80
        v >>= 7
        p += 1
    buf[p] = v
    return p + 1


@micropython.native
def _put_str(buf, p, s, cap):
    # str8: header (bit 7 truncated, bits 0-5 length) then the UTF-8 bytes.
    if type(s) is not str:
        # Not text (e.g. an int tag value): sent empty and marked truncated.
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


@micropython.native
def _header_fields(buf, seq, timestamp_ms):
    # seq (u16) and timestamp (u32, modulo 2**30) after the header byte.
    buf[_RAW + 1] = seq & 0xFF
    buf[_RAW + 2] = (seq >> 8) & 0xFF
    t = timestamp_ms & U30
    buf[_RAW + 3] = t & 0xFF
    buf[_RAW + 4] = (t >> 8) & 0xFF
    buf[_RAW + 5] = (t >> 16) & 0xFF
    buf[_RAW + 6] = t >> 24


@micropython.native
def _header(buf, frame_type, seq, timestamp_ms, start):
    h = _V1 | (frame_type << 2)
    if start:
        h |= _START
    buf[_RAW] = h
    _header_fields(buf, seq, timestamp_ms)
    return _RAW + 7


@micropython.native
def encode_drop_report(buf, seq, timestamp_ms, dropped, dropped_total, start):
    """A drop report into `buf`: `dropped` failures lost since the last report, `dropped_total` in all."""
    q = _header(buf, TYPE_DROP_REPORT, seq, timestamp_ms, start)
    q = _put_varint(buf, q, dropped & U30)
    q = _put_varint(buf, q, dropped_total & U30)
    return _seal(buf, q)


@micropython.native
def encode_heartbeat(
    buf, seq, timestamp_ms, failures, frames_sent, frames_dropped, write_errors, snapshots_dropped, start
):
    """A heartbeat into `buf`, carrying the back-end's counters (each modulo 2**30)."""
    q = _header(buf, TYPE_HEARTBEAT, seq, timestamp_ms, start)
    q = _put_varint(buf, q, failures & U30)
    q = _put_varint(buf, q, frames_sent & U30)
    q = _put_varint(buf, q, frames_dropped & U30)
    q = _put_varint(buf, q, write_errors & U30)
    q = _put_varint(buf, q, snapshots_dropped & U30)
    return _seal(buf, q)


@micropython.native
def encode_supervision(buf, seq, timestamp_ms, start, sequence, actor_id, path, error_type, decision, stage):
    """A supervision frame (type 0 extended, kind 2) into `buf`; returns its length.

    One failure a supervisor decided: `decision` is the directive applied
    (cellex.supervision RESUME / RESTART / STOP / ESCALATE = resumed /
    restarted / stopped / escalated), `stage` the supervisor hops (saturating
    at 15), `sequence` the supervised-failure number, `path` the actor's
    segments (the leaf-side MAX_PATH_DEPTH are sent), `error_type` its
    exception's class name. Allocates nothing.
    """
    q = _header(buf, TYPE_EXTENDED, seq, timestamp_ms, start)
    buf[q] = KIND_SUPERVISION
    if stage < 0:
        stage = 0
    elif stage > 15:
        stage = 15
    buf[q + 1] = stage | ((decision & 3) << 4)
    q = _put_varint(buf, q + 2, sequence & U30)
    q = _put_varint(buf, q, actor_id & U30)
    code = error_code(error_type)
    if code < 0:
        q = _put_str(buf, q, error_type, MAX_ERROR_TYPE)
    else:
        buf[q] = _S_MARK | code  # interned name
        q += 1
    depth = len(path)
    i = 0
    if depth > MAX_PATH_DEPTH:
        i = depth - MAX_PATH_DEPTH  # the root-side segments left out
    buf[q] = (depth - i) | ((15 if i > 15 else i) << 4)
    q += 1
    while i < depth:
        q = _put_str(buf, q, path[i], MAX_SEGMENT)
        i += 1
    return _seal(buf, q)


# Boot frame fields (docs/boot-frame.md): flag bits, and the str8 limit of its fields.
_BOOT_VALID = const(1)
_BOOT_FAILURE = const(2)
_BOOT_RUNNING = const(4)
_BOOT_STR = const(63)


def encode_boot(buf, seq, timestamp_ms, start, cause, valid, boot_count, running, failure):
    """A boot frame (type 0 extended, kind 1; docs/boot-frame.md) into `buf`; returns its length.

    running: (actor_id, path_text) or None; failure: (actor_id, path_text,
    error_name, stage, sequence, uptime_ms) or None (cellex.boot_frame makes
    both from the reset record). Sent once at boot: not a hot path.
    """
    q = _header(buf, TYPE_EXTENDED, seq, timestamp_ms, start)
    buf[q] = KIND_BOOT
    buf[q + 1] = cause
    buf[q + 2] = (
        (_BOOT_VALID if valid else 0) | (_BOOT_FAILURE if failure else 0) | (_BOOT_RUNNING if running else 0)
    )
    q = _put_varint(buf, q + 3, boot_count & U30)
    if running:
        q = _put_varint(buf, q, running[0] & U30)
        q = _put_str(buf, q, running[1], _BOOT_STR)
    if failure:
        actor_id, path, error_name, stage, sequence, uptime_ms = failure
        q = _put_varint(buf, q, actor_id & U30)
        q = _put_str(buf, q, path, _BOOT_STR)
        q = _put_str(buf, q, error_name, _BOOT_STR)
        buf[q] = stage & 0x0F
        q = _put_varint(buf, q + 1, sequence & U30)
        q = _put_varint(buf, q, uptime_ms & U30)
    return _seal(buf, q)


class FrameEncoder:
    """Encodes frames into `buf` (a bytearray of BUF_SIZE bytes).

    Each encode_* method writes one complete frame at buf[0:n] (trailing 0x00
    delimiter included) and returns n. `seq` is the stream's u16 sequence
    number; `start` marks the first frame of a stream (after boot). Allocates
    nothing; not reentrant (one encoder per stream). The module functions
    encode_failure(buf, ...) etc. do the same without the method call.
    """

    def __init__(self):
        self.buf = bytearray(BUF_SIZE)

    def encode_failure(self, seq, snap, start=False):
        """A failure frame of snapshot `snap`."""
        # (viper takes the bytearray for its ptr8 argument; the stubs cannot say so)
        return encode_failure(self.buf, seq, snap, start)  # pyright: ignore[reportArgumentType]

    def encode_drop_report(self, seq, timestamp_ms, dropped, dropped_total, start=False):
        """A drop report: `dropped` failures lost since the last report, `dropped_total` since start."""
        return encode_drop_report(self.buf, seq, timestamp_ms, dropped, dropped_total, start)

    def encode_supervision(self, seq, timestamp_ms, sequence, actor_id, path, error_type, decision, stage,
                           start=False):
        """A supervision frame: one failure a supervisor decided (see encode_supervision())."""
        return encode_supervision(
            self.buf, seq, timestamp_ms, start, sequence, actor_id, path, error_type, decision, stage
        )

    def encode_heartbeat(
        self, seq, timestamp_ms, failures, frames_sent, frames_dropped, write_errors, snapshots_dropped,
        start=False,
    ):
        """A heartbeat carrying the back-end's counters (each modulo 2**30)."""
        return encode_heartbeat(
            self.buf, seq, timestamp_ms, failures, frames_sent, frames_dropped, write_errors,
            snapshots_dropped, start,
        )
