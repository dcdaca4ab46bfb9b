"""The demo, end to end without hardware: `cellex demo` (`make demo` in a checkout).

1. starts the virtual board (the MicroPython unix port behind two ptys);
2. deploys cellex (.mpy, compiled as `cellex mpy --board VIRTUAL` does), the board
   config and apps/demo.py as main.py with mpremote, exactly as `cellex deploy` does
   to a board (installed, the board folder and the app are the copies the wheel carries);
3. watches the telemetry pty with the monitor while the board soft-resets and
   runs the demo: a sensor / filter / logger tree that fails in every way;
4. the last scene: an actor hangs, the watchdog resets the board, and the
   boot frame of the next boot names the actor (the monitor prints it);
5. prints the board's own summary and the monitor's, and checks that every
   failure the board produced was either decoded or reported dropped.
"""

import argparse
import re
import sys
import threading
import time

import serial

from cellex_tools import resources
from cellex_tools.deploy import DeployError, deploy
from cellex_tools.emulated_board import DEFAULT_FIRMWARE, EmulatedBoard, EmulatedBoardError
from cellex_tools.monitor import PortReader, Printer, Session, open_port, pump
from cellex_tools.virtual_board import VirtualBoard, VirtualBoardError
from cellex_tools.wire_decoder import Boot, Failure

# apps/demo.py: the checkout's, or the copy an installed wheel carries (resources.py)
APP = resources.resource("apps", "demo.py")
_DONE = re.compile(r"cellex demo: done (.*)")


class DemoError(Exception):
    """The demo could not run (the message says why)."""


class DemoResult:
    """What the board said it produced and what the monitor saw."""

    def __init__(self, board_counts, monitor_stats, records, console):
        self.board = board_counts  # from the app's "done" line
        self.monitor = monitor_stats  # StreamDecoder.stats()
        self.records = records  # every decoded record: Boot, Failure, DropReport, Heartbeat
        self.console = console  # the app's console lines

    @property
    def reboot(self):
        """The boot frame after the last scene's watchdog reset (names the hung actor), or None."""
        return next((r for r in self.records if isinstance(r, Boot) and r.running_id), None)

    @property
    def produced(self):
        return self.board.get("root_failures", -1)

    @property
    def failures(self):
        """The decoded Failure records, in order."""
        return [r for r in self.records if isinstance(r, Failure)]

    @property
    def accounted(self):
        """Failures decoded plus failures the board reported dropped in-band."""
        return self.monitor["failures"] + self.monitor["dropped"]


class _RecordingPrinter(Printer):
    """The monitor's printer, keeping each record for the checks at the end."""

    def __init__(self, out):
        super().__init__(out)
        self.records = []

    def record(self, rec):
        self.records.append(rec)
        super().record(rec)


def _watch_until(stop, ser, session):
    # One session for the whole demo: its decoder and per-actor tally see every frame.
    chunks = PortReader(ser, ser.name, 0)
    while not stop.is_set():
        if pump(chunks, session, duration=0.1) != "duration":
            return


def _read_console(console, out, timeout):
    """Echo the app's console lines until its "done" line; return (counts, lines)."""
    lines = []
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        buf += console.read(max(1, console.in_waiting))
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode(errors="replace").strip()
            if not line.startswith("cellex demo"):
                continue
            lines.append(line)
            out.write("board: " + line + "\n")
            done = _DONE.match(line)
            if done:
                counts = {k: int(v) for k, v in (kv.split("=") for kv in done.group(1).split())}
                return counts, lines
    raise DemoError("the demo app did not finish within %d s; console said: %r" % (timeout, lines))


def _wait_for_reboot(printer, console, lines, out, timeout):
    """After the "done" line: wait until the monitor has the boot frame that names the hung
    actor; echo the console meanwhile (at a reset an emulated Pico's console may hang up)."""
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        if any(isinstance(r, Boot) and r.running_id for r in printer.records):
            # then the board's own word on it, if its console says it soon (best effort)
            deadline = min(deadline, time.monotonic() + 1.0)
            if any(line.startswith("cellex demo: rebooted") for line in lines):
                return
        try:
            buf += console.read(max(1, console.in_waiting))
        except (OSError, serial.SerialException):
            time.sleep(0.1)  # the USB device went away with the reset
            continue
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode(errors="replace").strip()
            if line.startswith("cellex demo"):
                lines.append(line)
                out.write("board: " + line + "\n")
    if not any(isinstance(r, Boot) and r.running_id for r in printer.records):
        raise DemoError("no boot frame naming the hung actor within %d s after the last scene" % timeout)


def _start_board(which):
    """(board context manager, BOARD name) for --board virtual / emulated."""
    if which == "virtual":
        return VirtualBoard(), "VIRTUAL"
    if not resources.in_checkout():
        raise DemoError(
            "--board emulated runs from a checkout of the cellex repository (it needs the firmware "
            "`make firmware BOARD=RPI_PICO` builds there, and node); installed, use --board virtual"
        )
    if not DEFAULT_FIRMWARE.exists():
        raise DemoError("no firmware at %s: run `make firmware BOARD=RPI_PICO`" % DEFAULT_FIRMWARE)
    return EmulatedBoard(DEFAULT_FIRMWARE), "RPI_PICO"


def run_demo(out=sys.stdout, timeout=60.0, which="virtual"):
    """Run the whole demo on a fresh virtual board (or the emulated Pico); return a DemoResult."""
    context, board_name = _start_board(which)
    with context as board:
        out.write("%s board up: console %s, telemetry %s\n"
                  % (which, board.console_path, board.telemetry_path))
        try:
            result = deploy(board_name, board.console_path, app=str(APP), reset=False)
        except DeployError as e:
            raise DemoError("deploy failed: %s" % e) from e
        out.write("deployed %d files with mpremote (%s)\n" % (
            len(result.files),
            "cellex frozen in the firmware" if result.frozen else "%d bytes of .mpy" % result.mpy_bytes,
        ))

        printer = _RecordingPrinter(out)
        session = Session(printer)
        stop = threading.Event()
        telemetry = open_port(board.telemetry_path)
        watcher = threading.Thread(target=_watch_until, args=(stop, telemetry, session), daemon=True)
        watcher.start()
        console = serial.serial_for_url(board.console_path, timeout=0.1)
        try:
            console.write(b"\x04")  # soft reset at the friendly REPL: the board runs main.py
            counts, lines = _read_console(console, out, timeout)
            _wait_for_reboot(printer, console, lines, out, timeout)
            time.sleep(0.3)  # the last frames are already on the wire; let the monitor read them
        finally:
            stop.set()
            watcher.join(timeout=5)
            console.close()
            telemetry.close()
        stats = session.decoder.stats()
        session.print_summary()
    return DemoResult(counts, stats, printer.records, lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="cellex demo", description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the app")
    parser.add_argument(
        "--board", choices=("virtual", "emulated"), default="virtual",
        help="virtual: the unix port behind ptys; "
        "emulated: RPI_PICO firmware (make firmware) on an emulated RP2040",
    )
    args = parser.parse_args(argv)
    try:
        r = run_demo(timeout=args.timeout, which=args.board)
    except (DemoError, VirtualBoardError, EmulatedBoardError) as e:
        print("demo: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("demo: interrupted", file=sys.stderr)
        return 130
    if r.reboot is not None:
        print("demo: last scene: the board was reset by the %s while %s was running (boot %d)"
              % (r.reboot.cause, r.reboot.running_path, r.reboot.boot_count))
    verdict = "all accounted for" if r.accounted == r.produced else "MISMATCH"
    print(
        "demo: the board produced %d root failures; the monitor decoded %d and was told of %d dropped: %s"
        % (r.produced, r.monitor["failures"], r.monitor["dropped"], verdict)
    )
    return 0 if r.accounted == r.produced else 1


if __name__ == "__main__":
    sys.exit(main())
