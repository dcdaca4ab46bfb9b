"""Watch a board's failure telemetry: decode the UART stream and print one line per failure.

    cellex monitor --port /dev/ttyACM0 [--baud 115200] [--json] [--duration S] [--count N]
        [--record FILE] [--actor PATH]... [--error TYPE]... [--reconnect-timeout S]
        [--mqtt mqtt://host:port/topic [--device-id ID]]
    cellex monitor --replay FILE|- [--fast] [filters, --json, --mqtt ...]

(``python -m cellex_tools.monitor`` is the same command.)

PORT is anything pyserial's serial_for_url opens: a device path, a pty, socket://host:port,
rfc2217://host:port. The monitor says on stderr what it reads; stdout gets one line per record
(or JSON lines) and, on exit (Ctrl-C, end of stream, --duration or --count), a summary and a
per-actor / per-error table. Wire format: docs/wire-format.md.

- ``--record FILE`` saves the raw bytes with their host times (a pcap file, cellex_tools/capture.py);
  ``--replay FILE`` (``-``: stdin) plays one back at its recorded pace, ``--fast`` at full speed,
  printing the same lines as live (host times are the recorded ones).
- ``--actor /user/sensors`` shows only that subtree, ``--error OSError`` only that error type
  (both repeatable; board-level records always show); the counts in the table follow the filter.
- A port that disappears (USB adapter unplugged, pty closed) is waited for: the monitor says it
  lost it, reopens it when it is back, and exits with status 3 if it is not back within
  ``--reconnect-timeout`` seconds (default 30; 0: a lost port ends the watch).
- ``--mqtt`` publishes failure, supervision, boot and drop-report records to a broker
  (cellex_tools/mqtt_sink.py).

Words: an actor *restarts* (its supervisor's decision); the board *reboots*. The summary's
``restarts`` are actor restarts, its ``reboots`` the board's (boot frames and stream starts).

Exit status: 0 done (also after Ctrl-C or SIGTERM, which end the watch with the summary),
1 the port cannot be opened (or the capture read), 2 usage error, 3 the port was lost and did
not come back, 130 interrupted before the watch began or while printing the summary.

From Python: ``summary = monitor(port, duration=5)`` returns the summary counters.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

import serial

from cellex_tools.capture import CaptureError, CaptureReader, CaptureWriter, host_now
from cellex_tools.monitor_print import (
    Printer,
    format_boot,
    format_failure,
    format_supervision,
    summary_counts,
)
from cellex_tools.monitor_tally import RecordFilter, Tally
from cellex_tools.mqtt_sink import DEFAULT_QUEUE_LIMIT, MqttSink, MqttUrlError, device_id_for
from cellex_tools.wire_decoder import StreamDecoder

# The monitor's API: what the demo, the tests and users' scripts import from here.
__all__ = [
    "EXIT_INTERRUPTED", "EXIT_LOST", "EXIT_OK", "EXIT_PORT", "EXIT_USAGE", "MonitorError", "PortLost",
    "PortReader", "Printer", "ReplayReader", "Session", "format_boot", "format_failure", "format_supervision",
    "main", "monitor", "open_port", "pump", "summary_counts", "watch",
]  # fmt: skip

EXIT_OK = 0
EXIT_PORT = 1
EXIT_USAGE = 2
EXIT_LOST = 3
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C, when it comes outside the watch
DEFAULT_RECONNECT_TIMEOUT = 30.0
_READ_TIMEOUT_S = 0.1
_READ_MAX = 4096
_REOPEN_EVERY_S = 0.2


class MonitorError(Exception):
    """A port or option problem, with a one-line message for the user."""


class PortLost(MonitorError):
    """The port disappeared and did not come back within the reconnect timeout."""


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


class Session:
    """What the monitor does with bytes: decode, say what went wrong on the link, filter,
    print, count per actor, publish. Feed it chunks with the time they were read."""

    def __init__(
        self,
        printer: Printer,
        decoder: StreamDecoder | None = None,
        *,
        accept: RecordFilter | None = None,
        sink: MqttSink | None = None,
        count: int | None = None,
    ):
        self.printer = printer
        self.decoder = decoder if decoder is not None else StreamDecoder()
        self.accept = accept or RecordFilter()
        self.sink = sink
        self.count = count
        self.tally = Tally()
        self.shown_failures = 0

    @property
    def done(self) -> bool:
        """--count failures shown."""
        return self.count is not None and self.shown_failures >= self.count

    def feed(self, host_time: float, data: bytes) -> None:
        """Handle `data` read at `host_time`, one frame at a time, stopping once done."""
        self.printer.host_time = host_time
        start = 0
        while start < len(data) and not self.done:
            end = data.find(b"\x00", start) + 1 or len(data)
            self._piece(host_time, data[start:end])
            start = end

    def summary(self) -> dict:
        """The summary counters (summary_counts)."""
        return summary_counts(self.decoder.stats(), self.tally, self.sink.stats() if self.sink else None)

    def print_summary(self) -> None:
        self.printer.summary(self.decoder.stats(), self.tally, self.sink.stats() if self.sink else None)

    def _piece(self, host_time: float, piece: bytes) -> None:
        before = _link_counts(self.decoder)
        for rec in self.decoder.feed(piece):
            if not self.accept(rec):
                continue
            self.printer.record(rec)
            self.tally.add(rec)
            if self.sink is not None:
                self.sink.publish(rec, host_time)
            if rec.kind == "failure":
                self.shown_failures += 1
        lost, bad, reboots = (
            now - then for now, then in zip(_link_counts(self.decoder), before, strict=True)
        )
        if lost:
            self.printer.notice("%d frame(s) lost on the link (sequence gap)" % lost)
        if bad:
            self.printer.notice("%d corrupt frame(s) skipped (%s)" % (bad, self.decoder.last_error))
        if reboots:
            self.printer.notice("board rebooted (its telemetry stream started again)")


def _link_counts(d: StreamDecoder) -> tuple[int, int, int]:
    """Frames lost, corrupt frames, stream starts without a boot frame (the decoder's `stream_starts`)."""
    return d.lost, d.crc_errors + d.malformed, d.stream_starts


class PortReader:
    """Chunks from a serial port, (host time, bytes); b"" when nothing came within the read
    timeout. When the port fails and `reconnect_timeout` > 0, it reopens the port (say
    /dev/ttyUSB0 after the adapter was unplugged and plugged in again), saying so on `status`,
    and raises PortLost if the port is not back in time; with 0 a failed port ends the chunks.
    Set `record` to a CaptureWriter to save every chunk read.
    """

    def __init__(
        self,
        ser: serial.SerialBase,
        name: str,
        baud: int,
        *,
        reconnect_timeout: float = 0,
        status: TextIO | None = None,
    ):
        self.ser = ser
        self.name = name
        self.baud = baud
        self.reconnect_timeout = reconnect_timeout
        self.status = status
        self.record: CaptureWriter | None = None
        self.ended = ""  # why the chunks ended: "port closed (...)"

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        while True:
            try:
                data = self.ser.read(min(_READ_MAX, max(1, self.ser.in_waiting)))
            except (serial.SerialException, OSError) as e:
                self.ser.close()
                if self.reconnect_timeout <= 0:
                    self.ended = "port closed (%s)" % e
                    return
                yield from self._reopen(e)
                continue
            now = host_now()
            if data and self.record is not None:
                self.record.write(now, data)
            yield now, data

    def close(self) -> None:
        self.ser.close()

    def _reopen(self, why: Exception) -> Iterator[tuple[float, bytes]]:
        _say(
            self.status,
            "lost %s (%s); waiting up to %g s for it to come back" % (self.name, why, self.reconnect_timeout),
        )
        give_up = time.monotonic() + self.reconnect_timeout
        while time.monotonic() < give_up:
            try:
                self.ser = open_port(self.name, self.baud)
            except MonitorError:
                time.sleep(_REOPEN_EVERY_S)
                yield host_now(), b""  # lets --duration and Ctrl-C end the wait
                continue
            _say(self.status, "%s is back; reading again" % self.name)
            return
        raise PortLost("%s did not come back within %g s" % (self.name, self.reconnect_timeout))


class ReplayReader:
    """Chunks of a capture (cellex_tools/capture.py) at their recorded pace, or at once if
    `fast`. Raises MonitorError if `stream` is not a capture; one cut mid-record (the
    recording monitor was killed) ends the chunks, and `ended` says so."""

    def __init__(self, stream: BinaryIO, fast: bool = False):
        try:
            self._reader = CaptureReader(stream)
        except CaptureError as e:
            raise MonitorError(str(e)) from None
        self.fast = fast
        self.ended = ""

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        start = None
        for host_time, data in self._reader:
            if not self.fast:
                if start is None:
                    start = (host_time, time.monotonic())
                while (wait := host_time - start[0] - (time.monotonic() - start[1])) > 0:
                    time.sleep(min(wait, _READ_TIMEOUT_S))
                    yield host_time, b""  # lets --duration and Ctrl-C end a long silence
            yield host_time, data
        if self._reader.cut_bytes:
            self.ended = "capture cut inside a record (%d bytes ignored)" % self._reader.cut_bytes


def pump(chunks: PortReader | ReplayReader, session: Session, duration: float | None = None) -> str:
    """Feed `chunks` to `session` until done, a duration, their end or Ctrl-C; returns why it stopped."""
    deadline = None if duration is None else time.monotonic() + duration
    try:
        for host_time, data in chunks:
            if data:
                session.feed(host_time, data)
            if session.done:
                return "count"
            if deadline is not None and time.monotonic() >= deadline:
                return "duration"
    except KeyboardInterrupt:
        return "interrupted"
    return chunks.ended or "end of stream"


def watch(
    port: serial.SerialBase,
    printer: Printer,
    decoder: StreamDecoder,
    duration: float | None = None,
    count: int | None = None,
) -> str:
    """Read and print until a limit, end of stream or Ctrl-C; returns why it stopped."""
    session = Session(printer, decoder, count=count)
    return pump(PortReader(port, getattr(port, "name", "") or "port", 0), session, duration)


def monitor(
    port: str | None = None,
    baud: int = 115200,
    *,
    duration: float | None = None,
    count: int | None = None,
    json_mode: bool = False,
    out: TextIO | None = None,
    color: bool | None = None,
    status: TextIO | None = None,
    record: str | None = None,
    replay: BinaryIO | None = None,
    fast: bool = False,
    accept: RecordFilter | None = None,
    reconnect_timeout: float = 0,
    sink: MqttSink | None = None,
) -> dict:
    """Run the monitor on `port` (or a capture stream, `replay`) and return the summary counters.

    Stops after `duration` seconds, after `count` failures, at end of stream, or on Ctrl-C.
    Raises MonitorError when the port cannot be opened, PortLost (after printing the summary)
    when it disappeared for longer than `reconnect_timeout` seconds. `sink` is closed on return.
    """
    out = out if out is not None else sys.stdout
    printer = Printer(out, json_mode, color)
    session = Session(printer, accept=accept, sink=sink, count=count)
    lost = None
    try:
        if replay is not None:
            why = pump(ReplayReader(replay, fast), session, duration)
        else:
            why, lost = _watch_port(port, baud, session, duration, status, record, reconnect_timeout)
    except KeyboardInterrupt:
        why = "interrupted"  # before the reading began (once it has, pump() takes Ctrl-C)
    finally:
        if sink is not None:
            sink.close()
    if why.startswith(("port closed", "capture cut")):
        printer.notice(why)
    session.print_summary()
    if lost is not None:
        raise lost
    return session.summary()


def _watch_port(port, baud, session, duration, status, record, reconnect_timeout):
    reader = PortReader(open_port(port, baud), port, baud, reconnect_timeout=reconnect_timeout, status=status)
    try:
        if record:
            try:
                reader.record = CaptureWriter(open(record, "wb"))  # noqa: SIM115 - closed below
            except OSError as e:
                raise MonitorError("cannot write the capture %s: %s" % (record, e.strerror)) from None
        recording = ", recording to %s" % record if record else ""
        _say(status, "reading %s at %d baud%s (Ctrl-C stops)" % (port, baud, recording))
        return pump(reader, session, duration), None
    except PortLost as e:
        return "port lost", e
    finally:
        reader.close()
        if reader.record is not None:
            reader.record.close()


def _say(status: TextIO | None, text: str) -> None:
    if status is not None:
        status.write("monitor: %s\n" % text)
        status.flush()


def _number(kind, what, zero_ok=False):
    """An argparse type: `kind` (int or float) parsed from text, > 0 (>= 0 if `zero_ok`)."""

    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%r is not %s" % (text, what)) from None
        if v < 0 or (v == 0 and not zero_ok):
            raise argparse.ArgumentTypeError(
                "must be %s, got %s" % ("0 or more" if zero_ok else "positive", text)
            )
        return v

    return parse


_positive_int = _number(int, "a number")
_positive_float = _number(float, "a number of seconds")
_seconds = _number(float, "a number of seconds", zero_ok=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cellex monitor",
        description="Decode and print a cellex board's failure telemetry (docs/wire-format.md).",
        epilog="Exit status: 0 done, 1 port or capture problem, 2 usage error, 3 port lost for good, "
        "130 interrupted while starting. More: docs/monitor.md.",
    )
    src = p.add_argument_group("source (one of)")
    src.add_argument("--port", help="serial port: /dev/ttyACM0, COM3, a pty, socket://host:port")
    src.add_argument("--replay", metavar="FILE", help="a capture made with --record ('-': standard input)")
    p.add_argument("--baud", type=_positive_int, default=115200, help="baud rate (default 115200)")
    p.add_argument("--record", metavar="FILE", help="save the raw bytes with host times (a pcap file)")
    p.add_argument("--fast", action="store_true", help="replay at full speed, not at the recorded pace")
    p.add_argument(
        "--reconnect-timeout", type=_seconds, default=DEFAULT_RECONNECT_TIMEOUT, metavar="S",
        help="wait this long for a lost port to come back, then exit 3 (default %(default)g; 0: do not wait)",
    )  # fmt: skip
    out = p.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    out.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour (auto: only on a TTY)"
    )
    out.add_argument("--actor", action="append", default=[], metavar="PATH",
                     help="only actors under this path, e.g. /user/sensors (repeatable)")  # fmt: skip
    out.add_argument("--error", action="append", default=[], metavar="TYPE",
                     help="only this error type, e.g. OSError (repeatable)")  # fmt: skip
    out.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds")
    out.add_argument(
        "--count", type=_positive_int, metavar="N", help="stop after N failures (shown ones, with a filter)"
    )
    fleet = p.add_argument_group("fleet telemetry")
    fleet.add_argument("--mqtt", metavar="URL", help="also publish records to mqtt://host:port/topic (QoS 1)")
    fleet.add_argument(
        "--device-id",
        metavar="ID",
        help="this board's id in the topics (default: from the port or file name)",
    )
    fleet.add_argument(
        "--mqtt-queue", type=_positive_int, default=DEFAULT_QUEUE_LIMIT, metavar="N",
        help="records kept while the broker is away (default %(default)d); more are counted lost",
    )  # fmt: skip
    return p


def _bad_combination(args: argparse.Namespace) -> str | None:
    """What is wrong with a combination of options argparse cannot check, or None."""
    if (args.port is None) == (args.replay is None):
        return "give one source: --port PORT or --replay FILE"
    if args.replay is not None and args.record:
        return "--record saves a port's bytes; a replay is already a capture"
    if args.fast and args.replay is None:
        return "--fast is for --replay"
    if args.mqtt is None and args.device_id is not None:
        return "--device-id names the board for --mqtt"
    return None


def _stop(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (kill, systemd stop) ends the watch as Ctrl-C does: summary, MQTT flush


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # its own usage errors exit with EXIT_USAGE too
    problem = _bad_combination(args)
    if problem:
        print("monitor: %s (see --help)" % problem, file=sys.stderr)
        return EXIT_USAGE
    color = {"auto": None, "always": True, "never": False}[args.color]
    signal.signal(signal.SIGTERM, _stop)
    source = args.port if args.replay is None else args.replay
    sink = None
    try:
        replay = None
        if args.replay is not None:
            replay = sys.stdin.buffer if args.replay == "-" else open(args.replay, "rb")  # noqa: SIM115
            _say(
                sys.stderr,
                "replaying %s (%s)" % (args.replay, "full speed" if args.fast else "recorded pace"),
            )
        if args.mqtt is not None:
            # A replayed capture is named for its board, e.g. pico-7.pcap -> pico-7.
            name = source if args.replay is None else "replay" if source == "-" else Path(source).stem
            device = args.device_id or device_id_for(name)
            sink = MqttSink(
                args.mqtt,
                device,
                queue_limit=args.mqtt_queue,
                status=sys.stderr,
                wait_for_room=replay is not None,
            )
        monitor(
            args.port, args.baud, duration=args.duration, count=args.count, json_mode=args.json, color=color,
            status=sys.stderr, record=args.record, replay=replay, fast=args.fast,
            accept=RecordFilter(args.actor, args.error), reconnect_timeout=args.reconnect_timeout, sink=sink,
        )  # fmt: skip
    except MqttUrlError as e:
        print("monitor: --mqtt %s" % e, file=sys.stderr)
        return EXIT_USAGE
    except PortLost as e:
        print("monitor: %s" % e, file=sys.stderr)
        return EXIT_LOST
    except MonitorError as e:
        print("monitor: %s" % e, file=sys.stderr)
        return EXIT_PORT
    except OSError as e:
        print("monitor: cannot read %s: %s" % (args.replay, e.strerror), file=sys.stderr)
        return EXIT_PORT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED  # while starting or printing the summary: nothing more to say
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
