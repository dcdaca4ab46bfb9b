"""Watch a board's failure telemetry: decode the UART stream and print one line per failure.

    python -m cellex_tools.monitor --port /dev/ttyACM0 [--baud 115200] [--json] [--duration S] [--count N]

PORT is anything pyserial's serial_for_url opens: a device path, a pty, socket://host:port,
rfc2217://host:port. The summary (frames, failures, CRC errors, sequence gaps, dropped) is
printed on exit: Ctrl-C, end of stream, --duration or --count. Wire format: docs/wire-format.md.

From Python: ``summary = monitor(port, duration=5)`` returns the decoder's counters.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import json
import os
import sys
import time
from typing import TextIO

import serial

from cellex_tools.wire_decoder import (
    Boot,
    DropReport,
    Failure,
    Heartbeat,
    Record,
    StreamDecoder,
    record_to_dict,
)

EXIT_OK = 0
EXIT_PORT = 1
EXIT_USAGE = 2
_READ_TIMEOUT_S = 0.1


class MonitorError(Exception):
    """A port or option problem, with a one-line message for the user."""


def open_port(port: str, baud: int = 115200) -> serial.SerialBase:
    """Open `port` read-only for the monitor; raises MonitorError with a clear message."""
    if baud <= 0:
        raise MonitorError("bad baud rate %r: must be a positive integer, e.g. 115200" % baud)
    try:
        return serial.serial_for_url(port, baudrate=baud, timeout=_READ_TIMEOUT_S, exclusive=True)
    except ValueError as e:
        raise MonitorError("bad baud rate %r for %s: %s" % (baud, port, e)) from None
    except serial.SerialException as e:
        code = e.errno if isinstance(e.errno, int) else None
        text = str(e)
        if code == errno.ENOENT or "No such file" in text:
            raise MonitorError("no such port: %s" % port) from None
        if code == errno.EBUSY or "exclusively lock" in text or "Resource temporarily unavailable" in text:
            raise MonitorError("port %s is busy: another program has it open" % port) from None
        if code == errno.EACCES or "Permission denied" in text:
            raise MonitorError("permission denied on %s (on Linux: join the dialout group)" % port) from None
        raise MonitorError("cannot open %s: %s" % (port, text)) from None


class _Style:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        return "\x1b[%sm%s\x1b[0m" % (code, text) if self.enabled else text


def _host_time() -> str:
    return datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]


def format_failure(rec: Failure, style: _Style | None = None) -> str:
    """One readable line: host time, board time, path, exception: reason, stage, metadata, tags."""
    style = style or _Style(False)
    parts = [
        style("2", _host_time()),
        style("2", "t=%.3fs" % (rec.timestamp_ms / 1000)),
        style("1", rec.path_text),
        style("31;1", rec.error_type) + ": " + (rec.reason or "(no reason)"),
    ]
    if rec.description != rec.reason:
        parts.append("- " + rec.description)
    parts.append("stage=%d" % rec.stage)
    for name in ("component", "endpoint", "transport"):
        value = getattr(rec, name)
        if value:
            parts.append("%s=%s" % (name, value))
    parts += ["%s=%s" % kv for kv in rec.tags]
    if rec.tags_dropped:
        parts.append("(+%d tags dropped)" % rec.tags_dropped)
    parts.append(style("2", "actor=%d #%d" % (rec.actor_id, rec.sequence)))
    if rec.truncated:
        parts.append(style("33", "[cut: %s]" % ",".join(rec.truncated)))
    return "  ".join(parts)


def format_boot(rec: Boot, style: _Style | None = None) -> str:
    """The boot frame in words: why the board rebooted, what ran, the last root failure before."""
    style = style or _Style(False)
    why = {
        "watchdog": "rebooted by the watchdog",
        "power-on": "powered on",
        "soft reset": "soft reset",
        "hard reset": "reset (reset pin / hard reset)",
        "brown-out": "rebooted after a brown-out",
        "deep sleep": "woke from deep sleep",
    }.get(rec.cause, "booted (reset cause unknown)")
    text = "== board " + why
    if rec.running_id:
        text += " while %s was running" % (rec.running_path or "actor %d" % rec.running_id)
    if rec.has_failure:
        where = rec.failure_path or "actor %d" % rec.failure_actor_id
        text += "; last root failure before that: %s %s (stage %d, #%d, at t=%.3fs)" % (
            where, rec.failure_error_type or "(unknown error)", rec.failure_stage, rec.failure_sequence,
            rec.failure_uptime_ms / 1000,
        )  # fmt: skip
    elif not rec.record_valid:
        text += "; no record survived (cold start)"
    text += " [boot %d]" % rec.boot_count
    return "  ".join([style("2", _host_time()), style("35;1", text)])


class Printer:
    """Writes records and notices as text lines (optionally coloured) or JSON lines."""

    def __init__(self, out: TextIO, json_mode: bool = False, color: bool | None = None):
        self.out = out
        self.json = json_mode
        if color is None:
            color = not json_mode and _isatty(out) and not os.environ.get("NO_COLOR")
        self.style = _Style(color)

    def record(self, rec: Record) -> None:
        if self.json:
            d = record_to_dict(rec)
            d["host_time"] = time.time()
            self._line(json.dumps(d, ensure_ascii=False))
        elif isinstance(rec, Failure):
            self._line(format_failure(rec, self.style))
        elif isinstance(rec, Boot):
            self._line(format_boot(rec, self.style))
        elif isinstance(rec, DropReport):
            text = "!! board dropped %d failure(s) (total %d)" % (rec.dropped, rec.dropped_total)
            self._line(self.style("33", text))
        elif isinstance(rec, Heartbeat) and rec.stream_start:
            self._line(self.style("2", "-- board started"))

    def notice(self, text: str) -> None:
        if self.json:
            self._line(json.dumps({"type": "notice", "text": text, "host_time": time.time()}))
        else:
            self._line(self.style("33", "!! " + text))

    def summary(self, stats: dict[str, int]) -> None:
        if self.json:
            self._line(json.dumps(dict(stats, type="summary")))
            return
        self._line(
            "summary: frames=%(frames)d failures=%(failures)d crc_errors=%(crc_errors)d "
            "malformed=%(malformed)d gaps=%(gaps)d lost=%(lost)d dropped=%(dropped)d "
            "restarts=%(restarts)d reboots=%(reboots)d" % dict(stats, reboots=stats.get("boots", 0))
        )

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def watch(
    port: serial.SerialBase,
    printer: Printer,
    decoder: StreamDecoder,
    duration: float | None = None,
    count: int | None = None,
) -> str:
    """Read and print until a limit, end of stream or Ctrl-C; returns why it stopped."""
    deadline = None if duration is None else time.monotonic() + duration
    while True:
        if count is not None and decoder.failures >= count:
            return "count"
        if deadline is not None and time.monotonic() >= deadline:
            return "duration"
        try:
            data = port.read(max(1, port.in_waiting))
        except KeyboardInterrupt:
            return "interrupted"
        except (serial.SerialException, OSError) as e:
            return "port closed (%s)" % e
        before = (decoder.lost, decoder.crc_errors, decoder.malformed, decoder.restarts)
        for rec in decoder.feed(data):
            printer.record(rec)
            if count is not None and decoder.failures >= count:
                break
        after = (decoder.lost, decoder.crc_errors, decoder.malformed, decoder.restarts)
        if after != before:
            lost, crc_errors, malformed, restarts = (a - b for a, b in zip(after, before, strict=True))
            if lost:
                printer.notice("%d frame(s) lost on the link (sequence gap)" % lost)
            if crc_errors or malformed:
                bad = crc_errors + malformed
                printer.notice("%d corrupt frame(s) skipped (%s)" % (bad, decoder.last_error))
            if restarts:
                printer.notice("board restarted (stream start)")


def monitor(
    port: str,
    baud: int = 115200,
    *,
    duration: float | None = None,
    count: int | None = None,
    json_mode: bool = False,
    out: TextIO | None = None,
    color: bool | None = None,
) -> dict[str, int]:
    """Run the monitor on `port` and return the summary counters (see StreamDecoder.stats()).

    Stops after `duration` seconds, after `count` failures, at end of stream, or on Ctrl-C.
    Raises MonitorError when the port cannot be opened.
    """
    out = out if out is not None else sys.stdout
    printer = Printer(out, json_mode, color)
    decoder = StreamDecoder()
    ser = open_port(port, baud)
    try:
        why = watch(ser, printer, decoder, duration, count)
    finally:
        ser.close()
    if why.startswith("port closed"):
        printer.notice(why)
    printer.summary(decoder.stats())
    return decoder.stats()


def _positive(kind, what):
    """An argparse type: `kind` (int or float) parsed from text, > 0."""

    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%r is not %s" % (text, what)) from None
        if v <= 0:
            raise argparse.ArgumentTypeError("must be positive, got %s" % text)
        return v

    return parse


_positive_int = _positive(int, "a number")
_positive_float = _positive(float, "a number of seconds")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cellex_tools.monitor",
        description="Decode and print a cellex board's failure telemetry (docs/wire-format.md).",
    )
    p.add_argument("--port", required=True, help="serial port: /dev/ttyACM0, COM3, a pty, socket://host:port")
    p.add_argument("--baud", type=_positive_int, default=115200, help="baud rate (default 115200)")
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    p.add_argument("--duration", type=_positive_float, help="stop after S seconds")
    p.add_argument("--count", type=_positive_int, help="stop after N failures")
    p.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour (auto: only on a TTY)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    color = {"auto": None, "always": True, "never": False}[args.color]
    try:
        monitor(
            args.port, args.baud, duration=args.duration, count=args.count, json_mode=args.json, color=color
        )
    except MonitorError as e:
        print("monitor: %s" % e, file=sys.stderr)
        return EXIT_PORT
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
