# cellex.boot_frame: the boot frame (wire format v1, frame type 0 kind 1; docs/boot-frame.md).
# MIT licence.
#
# Sent once at start as the first frame of the UART back-end's stream
# (sequence number 0, stream start): why the board booted
# (machine.reset_cause(), as a portable code) and what the reset-surviving
# record (cellex.reset_record) kept from the run before. Runs once at boot,
# so it may allocate; it never raises into the caller.
from cellex.compat import ticks_ms
from cellex.reset_record import error_name
from cellex.wire import KIND_BOOT, TYPE_EXTENDED, U30

# Portable reset causes (machine.reset_cause() values differ per port).
CAUSE_UNKNOWN = 0
CAUSE_POWER_ON = 1
CAUSE_HARD_RESET = 2
CAUSE_WATCHDOG = 3
CAUSE_DEEP_SLEEP = 4
CAUSE_SOFT_RESET = 5
CAUSE_BROWN_OUT = 6
CAUSE_NAMES = ("unknown", "power-on", "hard reset", "watchdog", "deep sleep", "soft reset", "brown-out")

_FLAG_VALID = 1
_FLAG_FAILURE = 2
_FLAG_RUNNING = 4
_STR_MAX = 63


def reset_cause():
    """machine.reset_cause() as a CAUSE_* code (CAUSE_UNKNOWN without a machine module)."""
    try:
        import machine

        raw = machine.reset_cause()  # pyright: ignore[reportAttributeAccessIssue]
    except (ImportError, AttributeError):
        return CAUSE_UNKNOWN
    for name, code in (
        ("PWRON_RESET", CAUSE_POWER_ON),
        ("HARD_RESET", CAUSE_HARD_RESET),
        ("WDT_RESET", CAUSE_WATCHDOG),
        ("DEEPSLEEP_RESET", CAUSE_DEEP_SLEEP),
        ("SOFT_RESET", CAUSE_SOFT_RESET),
        ("BROWNOUT_RESET", CAUSE_BROWN_OUT),
    ):
        if getattr(machine, name, None) == raw:
            return code
    return CAUSE_UNKNOWN


def _varint(out, v):
    v &= U30
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def _str8(out, s):
    data = s.encode()
    flag = 0
    if len(data) > _STR_MAX:
        n = _STR_MAX
        while n > 0 and (data[n] & 0xC0) == 0x80:  # never split a UTF-8 sequence
            n -= 1
        data = data[:n]
        flag = 0x80
    out.append(flag | len(data))
    out.extend(data)


def _crc16(data):
    # CRC-16/IBM-3740: poly 0x1021, init 0xFFFF (docs/wire-format.md §1)
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _cobs(data):
    out = bytearray([0])
    code_at = 0
    code = 1
    for b in data:
        if b == 0:
            out[code_at] = code
            code_at = len(out)
            out.append(0)
            code = 1
        else:
            out.append(b)
            code += 1
            if code == 0xFF:
                out[code_at] = code
                code_at = len(out)
                out.append(0)
                code = 1
    out[code_at] = code
    return out


def encode_boot_frame(timestamp_ms, cause, valid, boot_count, running=None, failure=None, seq=0, start=True):
    """The boot frame on the wire (COBS, 0x00 delimiter included), as bytes.

    running: (actor_id, path_text) of the actor that was in receive() at the reset, or None
    failure: (actor_id, path_text, error_name, stage, sequence, uptime_ms), or None
    seq, start: the stream's sequence number and stream-start bit; a boot frame
    sent first by the UART back-end (send_boot_frame) has seq 0 and start set.
    """
    body = bytearray()
    body.append((1 << 5) | (0x10 if start else 0) | (TYPE_EXTENDED << 2))
    body.append(seq & 0xFF)
    body.append((seq >> 8) & 0xFF)
    ts = timestamp_ms & U30
    body.extend(bytes((ts & 0xFF, (ts >> 8) & 0xFF, (ts >> 16) & 0xFF, ts >> 24)))
    body.append(KIND_BOOT)
    body.append(cause)
    flags = (
        (_FLAG_VALID if valid else 0) | (_FLAG_FAILURE if failure else 0) | (_FLAG_RUNNING if running else 0)
    )
    body.append(flags)
    _varint(body, boot_count)
    if running:
        _varint(body, running[0])
        _str8(body, running[1])
    if failure:
        actor_id, path, error_name, stage, sequence, uptime_ms = failure
        _varint(body, actor_id)
        _str8(body, path)
        _str8(body, error_name)
        body.append(stage & 0x0F)
        _varint(body, sequence)
        _varint(body, uptime_ms)
    c = _crc16(body)
    body.append(c & 0xFF)
    body.append(c >> 8)
    out = _cobs(body)
    out.append(0)
    return bytes(out)


def _path_of(system, actor_id):
    if system is not None and actor_id:
        for ref in system.actors():
            if ref.id == actor_id:
                return str(ref.path)
    return ""


def boot_frame(record, system=None, cause=None, timestamp_ms=None, seq=0, start=True):
    """The boot frame for what `record` (a ResetRecord after boot()) found.

    Paths are looked up by actor id in `system` (spawned the same way on
    every boot, ids are the same): call after spawning, before the first frame.
    """
    if cause is None:
        cause = reset_cause()
    if timestamp_ms is None:
        timestamp_ms = ticks_ms()
    running = None
    failure = None
    if record.valid and record.running_id:
        running = (record.running_id, _path_of(system, record.running_id))
    if record.valid and record.has_failure:
        name = error_name(record.error_index)
        failure = (
            record.actor_id, _path_of(system, record.actor_id), name, record.stage, record.sequence,
            record.uptime_ms,
        )  # fmt: skip
    return encode_boot_frame(
        timestamp_ms, cause, record.valid, record.boot_count, running, failure, seq, start
    )


def send_boot_frame(telemetry, record, system=None, cause=None):
    """Send the boot frame as the first frame of `telemetry`'s stream.

    telemetry: the UartFailureTelemetry back-end that carries the board's
    telemetry (anything with send_encoded(), e.g. ctx.extensions' back-end):
    the boot frame takes its sequence number 0 and opens its stream, and the
    back-end's next frame is number 1, so the host sees one stream start per
    boot. Call after spawning and system.start(), before any failure.
    Returns True if written whole; never raises (a boot must not fail on its
    report).
    """
    try:
        return bool(
            telemetry.send_encoded(lambda seq, start: boot_frame(record, system, cause, seq=seq, start=start))
        )
    except Exception:  # noqa: BLE001
        return False
