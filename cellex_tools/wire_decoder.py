"""Host decoder for the cellex UART telemetry stream (wire format v1, docs/wire-format.md).

An independent implementation of the format: COBS framing comes from PyPI
``cobs`` and the CRC from PyPI ``crc``, so the firmware encoder
(``firmware/cellex/wire.py``, hand-written) is checked against them. The
well-known error-name table and the 30-bit range are the encoder's own
(``cellex.wire``, installed beside this package): one table for both sides.

Streaming use::

    decoder = StreamDecoder()
    for record in decoder.feed(chunk):   # any bytes, any chunking
        ...                              # Failure / DropReport / Heartbeat / Boot / Supervision
    decoder.stats()                      # counters

``feed`` never raises on bad input: every 0x00-delimited chunk is either one
record, a CRC error, or a malformed frame, so ``frames + crc_errors +
malformed == chunks``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import crc
from cobs import cobs

from cellex.wire import U30, error_names

VERSION = 1
TYPE_FAILURE = 1
TYPE_DROP_REPORT = 2
TYPE_HEARTBEAT = 3
TYPE_EXTENDED = 0  # byte 7 is a kind (wire-format §12); decoders before it count these malformed
KIND_BOOT = 1
KIND_SUPERVISION = 2
# Supervision frames' decision field, as words (cellex.supervision.DECISION_NAMES)
DECISIONS = ("resumed", "restarted", "stopped", "escalated")
BOOT_CAUSES = ("unknown", "power-on", "hard reset", "watchdog", "deep sleep", "soft reset", "brown-out")

MAX_PATH_DEPTH = 8
MAX_TAGS = 4
MAX_SEGMENT = 24
MAX_ERROR_TYPE = 32
MAX_REASON = 48
MAX_DESCRIPTION = 48
MAX_META = 24
MAX_TAG_KEY = 16
MAX_TAG_VALUE = 24
FRAME_MAX = 599
# A chunk longer than this without a delimiter is garbage (a frame is at most FRAME_MAX).
MAX_CHUNK = 1024

# Index = the one-byte wire code (wire-format §4): the firmware encoder's table.
ERROR_NAMES = error_names()

_CRC = crc.Calculator(crc.Crc16.IBM_3740, optimized=True)
_HEADER_LEN = 7
_MIN_BODY = _HEADER_LEN + 2


class FrameError(ValueError):
    """A chunk is not a valid frame; `kind` is "crc" or "malformed"."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class _Path:
    """`path_text` for the records that carry an actor's path (`path`, `path_omitted`)."""

    path: tuple[str, ...]
    path_omitted: int

    @property
    def path_text(self) -> str:
        prefix = "/..." if self.path_omitted else ""
        return prefix + "/" + "/".join(self.path)


@dataclass(frozen=True)
class Failure(_Path):
    """One failure, as the board's FailureSnapshot was put on the wire.

    `path` holds the segments carried (the leaf end when the path was deeper
    than MAX_PATH_DEPTH; `path_omitted` counts the segments left out, saturating
    at 15). `truncated` names the fields cut to their wire limit, e.g.
    ("reason", "path[2]", "tags[0].value").
    """

    seq: int
    timestamp_ms: int
    stream_start: bool
    sequence: int
    actor_id: int
    path: tuple[str, ...]
    path_omitted: int
    error_type: str
    reason: str
    description: str
    description_truncated: bool
    component: str
    endpoint: str
    transport: str
    tags: tuple[tuple[str, str], ...]
    tags_dropped: int
    stage: int
    truncated: tuple[str, ...] = ()

    kind = "failure"


@dataclass(frozen=True)
class DropReport:
    """In-band drop report: `dropped` failures the board could not send since its last report."""

    seq: int
    timestamp_ms: int
    stream_start: bool
    dropped: int
    dropped_total: int

    kind = "drop_report"


@dataclass(frozen=True)
class Heartbeat:
    """The back-end's counters (each modulo 2**30) at `timestamp_ms`."""

    seq: int
    timestamp_ms: int
    stream_start: bool
    failures: int
    frames_sent: int
    frames_dropped: int
    write_errors: int
    snapshots_dropped: int

    kind = "heartbeat"


@dataclass(frozen=True)
class Boot:
    """The boot frame (docs/boot-frame.md): why the board booted and what survived the reset.

    `record_valid`: the reset-surviving record was there (False after a cold power-on);
    `boot_count`: boots counted while it stayed valid. `running_*`: the actor that was in
    receive() at the reset (id 0: none known). `failure_*`: the last root failure before
    the reset (`has_failure`).
    """

    seq: int
    timestamp_ms: int
    stream_start: bool
    cause: str
    record_valid: bool
    boot_count: int
    running_id: int = 0
    running_path: str = ""
    has_failure: bool = False
    failure_actor_id: int = 0
    failure_path: str = ""
    failure_error_type: str = ""
    failure_stage: int = 0
    failure_sequence: int = 0
    failure_uptime_ms: int = 0

    kind = "boot"


@dataclass(frozen=True)
class Supervision(_Path):
    """A failure a supervisor decided below the root (wire-format §12): sent when the board's
    config turns supervised-failure telemetry on.

    `decision` is a word: "restarted", "resumed", "stopped" or "escalated". `sequence` numbers
    supervised failures (apart from root failures' `Failure.sequence`). `path` holds the
    segments carried (the leaf end; `path_omitted` left out at the root side).
    """

    seq: int
    timestamp_ms: int
    stream_start: bool
    sequence: int
    actor_id: int
    path: tuple[str, ...]
    path_omitted: int
    error_type: str
    decision: str
    stage: int
    truncated: tuple[str, ...] = ()

    kind = "supervision"


Record = Failure | DropReport | Heartbeat | Boot | Supervision


def record_to_dict(record: Record) -> dict:
    """A JSON-ready dict of a record, with its "type"."""
    d = {"type": record.kind}
    for f in dataclasses.fields(record):
        v = getattr(record, f.name)
        if isinstance(v, tuple):
            v = [list(x) if isinstance(x, tuple) else x for x in v]
        d[f.name] = v
    return d


class _Reader:
    def __init__(self, body: bytes, end: int):
        self.b = body
        self.p = _HEADER_LEN
        self.end = end

    def u8(self) -> int:
        if self.p >= self.end:
            raise FrameError("malformed", "payload ends early")
        v = self.b[self.p]
        self.p += 1
        return v

    def varint(self) -> int:
        v = 0
        for shift in range(0, 35, 7):
            b = self.u8()
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                if v > U30:
                    raise FrameError("malformed", "varint above 2**30")
                return v
        raise FrameError("malformed", "varint longer than 5 bytes")

    def str8(self, cap: int, name: str, truncated: list[str]) -> tuple[str, bool]:
        """Returns (text, mark bit)."""
        h = self.u8()
        n = h & 0x3F
        if n > cap:
            raise FrameError("malformed", "%s is %d bytes, limit %d" % (name, n, cap))
        if self.p + n > self.end:
            raise FrameError("malformed", "%s runs past the frame" % name)
        raw = self.b[self.p : self.p + n]
        self.p += n
        if h & 0x80:
            truncated.append(name)
        return raw.decode("utf-8", "replace"), bool(h & 0x40)

    def error_type(self, truncated: list[str]) -> str:
        """An error_type field: one byte naming a well-known error, or a str8."""
        eh = self.b[self.p] if self.p < self.end else 0
        if eh & 0x40 and not eh & 0x80:
            self.p += 1
            code = eh & 0x3F
            if code >= len(ERROR_NAMES):
                raise FrameError("malformed", "unknown interned error name %d" % code)
            return ERROR_NAMES[code]
        error_type, mark = self.str8(MAX_ERROR_TYPE, "error_type", truncated)
        if mark:
            raise FrameError("malformed", "interned error name with the truncated bit")
        return error_type

    def done(self) -> None:
        if self.p != self.end:
            raise FrameError("malformed", "%d stray bytes after the payload" % (self.end - self.p))


def decode_frame(chunk: bytes) -> Record:
    """Decode one frame (COBS bytes without the 0x00 delimiter). Raises FrameError."""
    if len(chunk) > FRAME_MAX - 1:
        raise FrameError("malformed", "frame of %d bytes is longer than %d" % (len(chunk), FRAME_MAX))
    try:
        body = cobs.decode(chunk)
    except cobs.DecodeError as e:
        raise FrameError("malformed", "bad COBS: %s" % e) from None
    if len(body) < _MIN_BODY:
        raise FrameError("malformed", "frame of %d bytes is too short" % len(body))
    end = len(body) - 2
    if _CRC.checksum(body[:end]) != int.from_bytes(body[end:], "little"):
        raise FrameError("crc", "CRC mismatch")
    h = body[0]
    version = h >> 5
    if version != VERSION:
        raise FrameError("malformed", "format version %d, this decoder reads %d" % (version, VERSION))
    frame_type = (h >> 2) & 3
    start = bool(h & 0x10)
    seq = body[1] | body[2] << 8
    ts = int.from_bytes(body[3:7], "little")
    if ts > U30:
        raise FrameError("malformed", "timestamp above 2**30")
    r = _Reader(body, end)
    if frame_type == TYPE_FAILURE:
        rec = _failure(r, h, seq, ts, start)
    elif frame_type == TYPE_DROP_REPORT:
        if h & 3:
            raise FrameError("malformed", "reserved header bits set")
        rec = DropReport(seq, ts, start, r.varint(), r.varint())
    elif frame_type == TYPE_HEARTBEAT:
        if h & 3:
            raise FrameError("malformed", "reserved header bits set")
        rec = Heartbeat(seq, ts, start, r.varint(), r.varint(), r.varint(), r.varint(), r.varint())
    elif frame_type == TYPE_EXTENDED:
        if h & 3:
            raise FrameError("malformed", "reserved header bits set")
        rec = _extended(r, seq, ts, start)
    else:
        raise FrameError("malformed", "unknown frame type %d" % frame_type)
    r.done()
    return rec


def _failure(r: _Reader, h: int, seq: int, ts: int, start: bool) -> Failure:
    truncated: list[str] = []
    flags = r.u8()
    tags_dropped = path_omitted = 0
    if h & 0x01:
        x = r.u8()
        tags_dropped, path_omitted = x & 0x0F, x >> 4
    sequence = r.varint()
    actor_id = r.varint()
    error_type = r.error_type(truncated)
    path: list[str] = []
    if h & 0x02:
        while True:
            if len(path) == MAX_PATH_DEPTH:
                raise FrameError("malformed", "path deeper than %d" % MAX_PATH_DEPTH)
            seg, last = r.str8(MAX_SEGMENT, "path[%d]" % len(path), truncated)
            path.append(seg)
            if last:
                break
    reason, has_description = r.str8(MAX_REASON, "reason", truncated)
    if has_description:
        description, mark = r.str8(MAX_DESCRIPTION, "description", truncated)
        description_truncated = "description" in truncated
    else:
        description, mark = reason, False
        description_truncated = "reason" in truncated
    meta = []
    for bit, name in ((0x10, "component"), (0x20, "endpoint"), (0x40, "transport")):
        if flags & bit:
            text, m = r.str8(MAX_META, name, truncated)
            meta.append(text)
            mark = mark or m
        else:
            meta.append("")
    tags: list[tuple[str, str]] = []
    if flags & 0x80:
        while True:
            if len(tags) == MAX_TAGS:
                raise FrameError("malformed", "more than %d tags" % MAX_TAGS)
            i = len(tags)
            key, last = r.str8(MAX_TAG_KEY, "tags[%d].key" % i, truncated)
            value, m = r.str8(MAX_TAG_VALUE, "tags[%d].value" % i, truncated)
            mark = mark or m
            tags.append((key, value))
            if last:
                break
    if mark:
        raise FrameError("malformed", "bit 6 set in a str8 header where it has no meaning")
    return Failure(
        seq=seq,
        timestamp_ms=ts,
        stream_start=start,
        sequence=sequence,
        actor_id=actor_id,
        path=tuple(path),
        path_omitted=path_omitted,
        error_type=error_type,
        reason=reason,
        description=description,
        description_truncated=description_truncated,
        component=meta[0],
        endpoint=meta[1],
        transport=meta[2],
        tags=tuple(tags),
        tags_dropped=tags_dropped,
        stage=flags & 0x0F,
        truncated=tuple(truncated),
    )


def _extended(r: _Reader, seq: int, ts: int, start: bool) -> Boot | Supervision:
    kind = r.u8()
    if kind == KIND_SUPERVISION:
        return _supervision(r, seq, ts, start)
    if kind != KIND_BOOT:
        raise FrameError("malformed", "unknown extended frame kind %d" % kind)
    return _boot(r, seq, ts, start)


def _supervision(r: _Reader, seq: int, ts: int, start: bool) -> Supervision:
    flags = r.u8()
    if flags & 0xC0:
        raise FrameError("malformed", "reserved supervision flag bits set")
    truncated: list[str] = []
    sequence = r.varint()
    actor_id = r.varint()
    error_type = r.error_type(truncated)
    depth = r.u8()
    count, omitted = depth & 0x0F, depth >> 4
    if count > MAX_PATH_DEPTH:
        raise FrameError("malformed", "path deeper than %d" % MAX_PATH_DEPTH)
    path = []
    for i in range(count):
        seg, mark = r.str8(MAX_SEGMENT, "path[%d]" % i, truncated)
        if mark:
            raise FrameError("malformed", "bit 6 set in a str8 header where it has no meaning")
        path.append(seg)
    return Supervision(
        seq=seq, timestamp_ms=ts, stream_start=start, sequence=sequence, actor_id=actor_id,
        path=tuple(path), path_omitted=omitted, error_type=error_type,
        decision=DECISIONS[(flags >> 4) & 3], stage=flags & 0x0F, truncated=tuple(truncated),
    )  # fmt: skip


def _boot(r: _Reader, seq: int, ts: int, start: bool) -> Boot:
    cause = r.u8()
    if cause >= len(BOOT_CAUSES):
        raise FrameError("malformed", "unknown reset cause %d" % cause)
    flags = r.u8()
    if flags & ~7:
        raise FrameError("malformed", "reserved boot flag bits set")
    truncated: list[str] = []

    def text(name: str) -> str:
        value, mark = r.str8(63, name, truncated)
        if mark:
            raise FrameError("malformed", "bit 6 set in a str8 header where it has no meaning")
        return value

    fields: dict = {"boot_count": r.varint()}
    if flags & 4:
        fields["running_id"] = r.varint()
        fields["running_path"] = text("running_path")
    if flags & 2:
        fields["has_failure"] = True
        fields["failure_actor_id"] = r.varint()
        fields["failure_path"] = text("failure_path")
        fields["failure_error_type"] = text("failure_error_type")
        stage = r.u8()
        if stage > 15:
            raise FrameError("malformed", "stage above 15")
        fields["failure_stage"] = stage
        fields["failure_sequence"] = r.varint()
        fields["failure_uptime_ms"] = r.varint()
    return Boot(seq, ts, start, BOOT_CAUSES[cause], bool(flags & 1), **fields)


class StreamDecoder:
    """Splits a byte stream at 0x00 delimiters and decodes each frame.

    Counters (attributes): bytes, chunks, frames, failures, drop_reports,
    heartbeats, boots (boot frames: board reboots), supervisions (supervision
    frames), crc_errors, malformed, gaps (sequence discontinuities),
    lost (frames missing according to the sequence numbers), dropped (failure
    and supervision frames the board reported dropped in-band), stream_starts
    (stream-start frames after the first frame seen that are not boot frames:
    a board that rebooted without its boot frame reaching the host),
    out_of_order (sequence went backwards: a reboot
    whose first frame was lost, or a duplicate). Bytes before the first
    delimiter are decoded like any chunk: a stream that starts mid-frame costs
    at most one error.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._overflow = False
        self._expected: int | None = None
        self.bytes = 0
        self.chunks = 0
        self.frames = 0
        self.failures = 0
        self.drop_reports = 0
        self.heartbeats = 0
        self.boots = 0  # boot frames: board reboots, apart from actor restarts
        self.supervisions = 0  # supervision frames: failures supervisors decided
        self.crc_errors = 0
        self.malformed = 0
        self.gaps = 0
        self.lost = 0
        self.dropped = 0
        self.stream_starts = 0  # streams started again without a boot frame: reboots too
        self.out_of_order = 0
        self.last_error = ""

    def feed(self, data: bytes | bytearray | memoryview) -> list[Record]:
        """Consume bytes; return the records completed by them, in order. Never raises."""
        out: list[Record] = []
        data = bytes(data)
        self.bytes += len(data)
        start = 0
        while True:
            i = data.find(b"\x00", start)
            piece = data[start:] if i < 0 else data[start:i]
            if not self._overflow:
                self._pending += piece
                if len(self._pending) > MAX_CHUNK:
                    self._overflow = True
                    self._pending.clear()
            if i < 0:
                return out
            if self._overflow:
                self._error(FrameError("malformed", "no delimiter in %d bytes" % MAX_CHUNK))
                self._overflow = False
            elif self._pending:
                rec = self._chunk(bytes(self._pending))
                self._pending.clear()
                if rec is not None:
                    out.append(rec)
            start = i + 1

    def records(self, chunks: Iterable[bytes]) -> Iterator[Record]:
        """Decode an iterable of byte chunks lazily."""
        for chunk in chunks:
            yield from self.feed(chunk)

    def stats(self) -> dict[str, int]:
        return {
            name: getattr(self, name)
            for name in (
                "bytes", "chunks", "frames", "failures", "drop_reports", "heartbeats", "boots",
                "supervisions", "crc_errors", "malformed", "gaps", "lost", "dropped", "stream_starts",
                "out_of_order",
            )
        }  # fmt: skip

    def _error(self, e: FrameError) -> None:
        self.chunks += 1
        if e.kind == "crc":
            self.crc_errors += 1
        else:
            self.malformed += 1
        self.last_error = str(e)

    def _chunk(self, chunk: bytes) -> Record | None:
        try:
            rec = decode_frame(chunk)
        except FrameError as e:
            self._error(e)
            return None
        except Exception as e:  # noqa: BLE001 - a decoder bug must not stop the stream
            self._error(FrameError("malformed", "decoder error: %r" % e))
            return None
        self.chunks += 1
        self.frames += 1
        self._track(rec)
        if isinstance(rec, Failure):
            self.failures += 1
        elif isinstance(rec, DropReport):
            self.drop_reports += 1
            self.dropped += rec.dropped
        elif isinstance(rec, Boot):
            self.boots += 1
        elif isinstance(rec, Supervision):
            self.supervisions += 1
        else:
            self.heartbeats += 1
        return rec

    def _track(self, rec: Record) -> None:
        expected = self._expected
        self._expected = (rec.seq + 1) & 0xFFFF
        if rec.stream_start:
            # A boot frame opens the stream after a reboot (counted in boots).
            if expected is not None and not isinstance(rec, Boot):
                self.stream_starts += 1
            return
        if expected is None or rec.seq == expected:
            return
        delta = (rec.seq - expected) & 0xFFFF
        if delta < 0x8000:
            self.gaps += 1
            self.lost += delta
        else:
            self.out_of_order += 1
