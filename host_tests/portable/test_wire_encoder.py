# The firmware wire encoder: golden vectors, frame limits, no allocation (both interpreters).
# MIT licence.
import json

import support
from cellex.snapshot import FailureSnapshot
from cellex.wire import FRAME_MAX, FrameEncoder, crc16, error_names


def load_vectors():
    with open(support.data_path("wire-vectors.json")) as f:
        return json.load(f)["vectors"]


def build_snapshot(spec, snap=None):
    """Fill a FailureSnapshot from a vector's "snapshot" dict (the way the root fills one)."""
    if snap is None:
        snap = FailureSnapshot()
    snap.clear()
    snap.sequence = spec.get("sequence", 0)
    snap.timestamp_ms = spec.get("timestamp_ms", 0)
    snap.actor_id = spec.get("actor_id", 0)
    snap.path = tuple(spec.get("path", ()))
    snap.error_type = spec.get("error_type", "")
    snap.reason = spec.get("reason", "")
    snap.set_description(spec.get("description", snap.reason))
    snap.component = spec.get("component", "")
    snap.endpoint = spec.get("endpoint", "")
    snap.transport = spec.get("transport", "")
    for kv in spec.get("tags", ()):
        snap.add_tag(kv[0], kv[1])
    snap.stage = spec.get("stage", 0)
    return snap


def encode_vector(enc, v):
    """Encode one vector with `enc`; returns the frame's bytes."""
    kind = v["type"]
    start = v.get("start", False)
    if kind == "failure":
        n = enc.encode_failure(v["seq"], build_snapshot(v["snapshot"]), start)
    elif kind == "drop_report":
        n = enc.encode_drop_report(v["seq"], v["timestamp_ms"], v["dropped"], v["dropped_total"], start)
    else:
        n = enc.encode_heartbeat(
            v["seq"], v["timestamp_ms"], v["failures"], v["frames_sent"], v["frames_dropped"],
            v["write_errors"], v["snapshots_dropped"], start,
        )
    return bytes(enc.buf[:n])


def _hex(b):
    return "".join("%02x" % x for x in b)


def test_every_golden_vector_encodes_to_its_exact_bytes():
    enc = FrameEncoder()
    vectors = load_vectors()
    assert len(vectors) >= 10
    for v in vectors:
        got = _hex(encode_vector(enc, v))
        assert got == v["hex"], v["name"] + ": got " + got


def test_a_typical_failure_frame_fits_in_64_bytes():
    for v in load_vectors():
        if v["name"] == "failure_typical":
            assert len(encode_vector(FrameEncoder(), v)) <= 64
            return
    raise AssertionError("vector failure_typical is missing")


def test_the_largest_failure_frame_is_exactly_frame_max():
    for v in load_vectors():
        if v["name"] == "failure_worst_case":
            assert len(encode_vector(FrameEncoder(), v)) == FRAME_MAX
            return
    raise AssertionError("vector failure_worst_case is missing")


def test_a_frame_ends_with_its_only_zero_byte():
    enc = FrameEncoder()
    for v in load_vectors():
        frame = encode_vector(enc, v)
        assert frame[-1] == 0, v["name"]
        assert 0 not in frame[:-1], v["name"]


def test_an_oversized_snapshot_never_writes_past_the_buffer():
    enc = FrameEncoder()
    size = len(enc.buf)
    snap = FailureSnapshot()
    snap.path = tuple("\u00e9" * 40 for _ in range(30))
    snap.error_type = "X" * 200
    snap.reason = "r" * 300
    snap.set_description("\u20ac" * 100)
    snap.component = snap.endpoint = snap.transport = "m" * 100
    for _ in range(9):
        snap.add_tag("k" * 100, "v" * 100)
    snap.stage = 1000
    snap.sequence = snap.actor_id = snap.timestamp_ms = (1 << 30) - 1
    n = enc.encode_failure(0xFFFF, snap, True)
    assert n == FRAME_MAX
    assert len(enc.buf) == size


def test_encoding_a_failure_allocates_nothing():
    enc = FrameEncoder()
    snap = FailureSnapshot()
    snap.path = ("user", "sensors", "imu")
    snap.error_type = "SensorFault"
    snap.reason = "read timeout \u00e9"
    snap.set_description("another text")
    snap.component = "imu"
    snap.add_tag("bus", "i2c0")
    snap.add_tag("addr", "0x68")
    snap.stage = 2
    snap.sequence = 100000
    snap.timestamp_ms = 123456789

    def encode():
        return enc.encode_failure(300, snap, False)

    assert support.assert_no_alloc(encode) > 0


def test_encoding_a_long_frame_allocates_nothing():
    # Bodies over 254 bytes take the COBS 0xFF-block path.
    enc = FrameEncoder()
    snap = FailureSnapshot()
    snap.path = tuple("segment-%d-abcdefghijklmn" % i for i in range(10))
    snap.reason = "r" * 60
    snap.set_description(snap.reason)
    for i in range(4):
        snap.add_tag("key-%d" % i, "value " * 5)

    def encode():
        return enc.encode_failure(1, snap, False)

    assert support.assert_no_alloc(encode) > 260


def test_encoding_drop_reports_and_heartbeats_allocates_nothing():
    enc = FrameEncoder()

    def encode():
        n = enc.encode_drop_report(7, 1 << 29, 1000, (1 << 30) - 1)
        return n + enc.encode_heartbeat(8, 5, 1, 2, 3, 4, 5)

    assert support.assert_no_alloc(encode) > 0


def test_numbers_are_sent_modulo_2_to_the_30():
    # A 32-bit board's small ints stop at 2**30; the wire never needs more.
    a = FrameEncoder()
    b = FrameEncoder()
    s1 = build_snapshot({"sequence": 5, "actor_id": 9, "timestamp_ms": 77})
    n1 = a.encode_failure(1, s1)
    if support.MICROPYTHON:
        support.skip("values above 2**30 are big ints on a 32-bit board; fed only on CPython")
    big = 1 << 30
    s2 = build_snapshot({"sequence": 5 + big, "actor_id": 9 + 3 * big, "timestamp_ms": 77 + big})
    n2 = b.encode_failure(1, s2)
    assert bytes(a.buf[:n1]) == bytes(b.buf[:n2])


def test_the_crc_is_crc16_ibm_3740():
    buf = bytearray(b"..123456789")
    assert crc16(buf, 2, 11) == 0x29B1
    assert crc16(buf, 2, 2) == 0xFFFF


def test_every_well_known_name_is_sent_as_its_one_byte_code():
    # On MicroPython this checks the hash slots the viper encoder finds names by.
    enc = FrameEncoder()
    names = error_names()
    assert len(names) == 30 and names[0] == "Exception" and names[1] == "OSError"
    plain = _frame_with_error(enc, "")
    for code in range(len(names)):
        frame = _frame_with_error(enc, names[code])
        assert len(frame) == len(plain), names[code]
        assert _body(frame)[10] == 0x40 | code, names[code]


def test_other_names_are_sent_as_text():
    enc = FrameEncoder()
    plain = len(_frame_with_error(enc, ""))
    for name in ("OSErro", "OSErrorX", "oserror", "SensorFault", "E", "StopAsyncIterationX", "X" * 40):
        frame = _frame_with_error(enc, name)
        n = min(len(name), 32)
        assert len(frame) == plain + n, name
        assert _body(frame)[10] == (n | 0x80 if len(name) > 32 else n), name


def _frame_with_error(enc, name):
    snap = FailureSnapshot()
    snap.error_type = name
    return bytes(enc.buf[: enc.encode_failure(1, snap, False)])


def _body(frame):
    # COBS-decode one frame (its trailing delimiter included); body + CRC.
    out = bytearray()
    i = 0
    end = len(frame) - 1
    while i < end:
        code = frame[i]
        out += frame[i + 1 : i + code]
        i += code
        if code < 0xFF and i < end:
            out.append(0)
    return bytes(out)


def _corpus():
    # Snapshots of every shape the encoder has a branch for, made by a fixed
    # generator (the same on both interpreters): sizes on both sides of the
    # 254-byte COBS block, cut UTF-8, fields that are not str, deep paths...
    # One at a time (a generator): the corpus fits a Pico-sized heap.
    x = 12345
    texts = ("", "a", "imu", "read timeout", "\u00e9t\u00e9", "\u20ac" * 20, "z" * 70, "x\u00e9" * 30)
    texts += ("OSError",)
    others = (5, None, b"raw", 3.5)
    for n in range(160):
        x = (x * 1103515245 + 12345) & 0x3FFFFFFF
        s = FailureSnapshot()
        s.sequence = x & 0xFFFFF
        s.timestamp_ms = (x * 7) & 0x3FFFFFFF
        s.actor_id = (x >> 5) & 0x3FFF
        s.path = tuple(texts[(x >> (i + 3)) % len(texts)] or "seg" for i in range((x >> 7) % 11))
        s.error_type = ("SensorFault", "ValueError", "MemoryError", "", "\u00e9rreur" * 8)[n % 5]
        s.reason = texts[n % len(texts)] + "r" * (n % 50)
        s.set_description(s.reason if n % 3 else texts[(n + 1) % len(texts)])
        if n % 4 == 1:
            s.component = texts[(x >> 3) % len(texts)]
            s.endpoint = others[n % len(others)] if n % 8 == 1 else "ep"
            s.transport = "uart"
        for i in range((x >> 11) % 7):
            value = others[i % len(others)] if n % 6 == 0 else texts[(x >> i) % len(texts)]
            s.add_tag("k%d" % i, value)
        s.stage = (x >> 13) % 20
        yield s
    for k in range(49):
        # frames of 241..289 bytes: every size around the 254-byte COBS block
        s = FailureSnapshot()
        s.sequence = k
        s.path = tuple(chr(0x61 + i) * 24 for i in range(8))
        s.error_type = "OSError"
        s.reason = "r" * k
        s.set_description(s.reason)
        s.component = "c" * 24
        yield s


# (bytes, FNV-1a) of every frame of _corpus(), each encoded with seq = its
# index and start on the even ones: computed with the pure-Python encoder of
# the first release (git show cc6922b:firmware/cellex/wire.py), and matched by
# today's encoders, viper (MicroPython) and plain Python (CPython).
_CORPUS_DIGEST = (39179, 3940858544)


def test_a_corpus_of_odd_snapshots_encodes_to_the_same_bytes_on_both_interpreters():
    enc = FrameEncoder()
    h = 0x811C9DC5
    total = 0
    sizes = []
    for i, s in enumerate(_corpus()):
        n = enc.encode_failure(i, s, i % 2 == 0)
        sizes.append(n)
        buf = enc.buf
        for j in range(n):
            h = ((h ^ buf[j]) * 0x01000193) & 0xFFFFFFFF
        total += n
        assert bytes(buf[:n]).find(b"\x00") == n - 1
    for n in range(241, 267):  # each size across the 254-byte block, then COBS inserts a code byte
        assert n in sizes, n
    assert (total, h) == _CORPUS_DIGEST, (total, h)
