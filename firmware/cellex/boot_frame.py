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
from cellex.wire import BUF_SIZE, encode_boot

# Portable reset causes (machine.reset_cause() values differ per port).
CAUSE_UNKNOWN = 0
CAUSE_POWER_ON = 1
CAUSE_HARD_RESET = 2
CAUSE_WATCHDOG = 3
CAUSE_DEEP_SLEEP = 4
CAUSE_SOFT_RESET = 5
CAUSE_BROWN_OUT = 6
CAUSE_NAMES = ("unknown", "power-on", "hard reset", "watchdog", "deep sleep", "soft reset", "brown-out")


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


def encode_boot_frame(timestamp_ms, cause, valid, boot_count, running=None, failure=None, seq=0, start=True):
    """The boot frame on the wire (COBS, 0x00 delimiter included), as bytes.

    running: (actor_id, path_text) of the actor that was in receive() at the reset, or None
    failure: (actor_id, path_text, error_name, stage, sequence, uptime_ms), or None
    seq, start: the stream's sequence number and stream-start bit; a boot frame
    sent first by the UART back-end (send_boot_frame) has seq 0 and start set.
    """
    buf = bytearray(BUF_SIZE)
    n = encode_boot(buf, seq, timestamp_ms, start, cause, valid, boot_count, running, failure)
    return bytes(buf[:n])


def _path_of(system, actor_id):
    if system is not None and actor_id:
        for ref in system.actors():
            if ref.id == actor_id:
                return str(ref.path)
    return ""


def boot_frame(record, system=None, cause=None, timestamp_ms=None, seq=0, start=True):
    """The boot frame for what `record` (a ResetRecord after boot()) found, as bytes.

    Paths are looked up by actor id in `system` (spawned the same way on
    every boot, ids are the same): call after spawning, before the first frame.
    """
    buf = bytearray(BUF_SIZE)
    n = _encode(buf, record, system, cause, timestamp_ms, seq, start)
    return bytes(buf[:n])


def _encode(buf, record, system, cause, timestamp_ms, seq, start):
    # boot_frame() into `buf`; returns its length.
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
    valid = record.valid
    return encode_boot(buf, seq, timestamp_ms, start, cause, valid, record.boot_count, running, failure)


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
        return bool(telemetry.send_encoded(
            lambda buf, seq, start: _encode(buf, record, system, cause, None, seq, start)
        ))
    except Exception:  # noqa: BLE001
        return False
