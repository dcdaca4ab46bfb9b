"""Emulated board: real RPI_PICO MicroPython firmware on an emulated RP2040, driven like a board.

    python -m cellex_tools.emulated_board --firmware build/firmware/RPI_PICO/firmware.bin [--flash IMAGE]

prints two device paths and runs until Ctrl-C / SIGTERM:

- console: the board's USB-CDC REPL. `mpremote connect <console> ...` works as
  with a Pico on /dev/ttyACM0: raw REPL, raw-paste, `fs cp`, `fs ls`, `soft-reset`,
  `reset` (a watchdog reset: a new chip boots from the same flash).
- telemetry: the board's UART0 (TX pin 0 / RX pin 1) as a USB-serial adapter
  would show it; pyserial and the monitor open it by path.

How it works: cellex_tools/emulated_pico/run.mjs runs the firmware on the npm package
rp2040js (pinned in cellex_tools/emulated_pico/package.json; `npm ci` is run here when
node_modules is missing). Node cannot open a pty, so this module opens both ptys,
keeps their slave side open (the device stays usable while nobody has it open,
as a board's does) and hands the masters to Node, which moves the bytes itself.
Node reports events as JSON lines on its stdout (up, usb, repl, reset, stats).
The flash (and so littlefs) lives as long as the board; `flash=` keeps it in a
file across runs.

Importable API:

    with EmulatedBoard("firmware.bin") as board:
        board.console_path     # give to mpremote
        board.telemetry_path   # give to the monitor / pyserial
        board.stats()          # instructions, resets, bytes each way, ...
"""

import argparse
import fcntl
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import tty
from pathlib import Path

from cellex_tools.board_cli import serve

ROOT = Path(__file__).resolve().parent.parent
RUNNER_DIR = Path(__file__).resolve().parent / "emulated_pico"
DEFAULT_FIRMWARE = ROOT / "build" / "firmware" / "RPI_PICO" / "firmware.bin"
# the vendored boot ROM (shared/vendor/ beside the repository); rp2040js ships none
DEFAULT_BOOTROM = ROOT.parent / "shared" / "vendor" / "rp2040-bootrom-b1.bin"
BOOTROM_ENV = "CELLEX_RP2040_BOOTROM"
# Linux ioctl: hang up every open file of a tty (their reads see end of file, writes fail), while
# the tty stays and can be opened again; needs CAP_SYS_ADMIN
TIOCVHANGUP = 0x5437


class EmulatedBoardError(RuntimeError):
    pass


def default_bootrom():
    return Path(os.environ.get(BOOTROM_ENV) or DEFAULT_BOOTROM)


def ensure_runner(node="node", npm="npm"):
    """Check Node.js is there and install rp2040js (npm ci) if node_modules is missing."""
    if shutil.which(node) is None:
        raise EmulatedBoardError(
            "Node.js is needed for the emulated Pico (%r not found): apt-get install nodejs npm" % node
        )
    if (RUNNER_DIR / "node_modules" / "rp2040js" / "package.json").is_file():
        return
    if shutil.which(npm) is None:
        raise EmulatedBoardError(
            "npm is needed to install rp2040js (%r not found): apt-get install npm" % npm
        )
    proc = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=RUNNER_DIR,
        capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0:
        raise EmulatedBoardError("npm ci in %s failed:\n%s" % (RUNNER_DIR, proc.stdout + proc.stderr))


def _raw_pty():
    """A pty pair whose slave is raw: bytes pass untouched (no echo, no CR/LF change, Ctrl-C is a byte)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    return master, slave


class EmulatedBoard:
    """The RPI_PICO firmware on rp2040js behind two ptys. Use as a context manager, or start()/stop().

    firmware: firmware.bin (written at flash offset 0, as picotool would)
    flash:    a file holding the board's flash image, loaded at start and saved at stop
              (None: a fresh, erased flash; the firmware formats its filesystem at first boot)
    bootrom:  the RP2040 B1 boot ROM (default: shared/vendor/, or $CELLEX_RP2040_BOOTROM)
    log:      where Node's warnings go (a path; default: a temporary file, kept only on failure)
    fastcore: run instructions with cellex_tools/emulated_pico/fastcore.mjs (False: rp2040js's own decoder,
              slower, for telling an emulator fault from a firmware one)
    """

    def __init__(
        self, firmware=DEFAULT_FIRMWARE, *, flash=None, bootrom=None, node="node", log=None, fastcore=True
    ):
        self.firmware = Path(firmware)
        self.flash = Path(flash) if flash is not None else None
        self.bootrom = Path(bootrom) if bootrom is not None else default_bootrom()
        self.node = node
        self.log_path = Path(log) if log is not None else None
        self.fastcore = fastcore
        self.console_path = None
        self.telemetry_path = None
        self.resets = 0  # watchdog resets (machine.reset(), mpremote reset, WDT)
        self._proc = None
        self._fds = []
        self._reader = None
        self._cond = threading.Condition()
        self._events = []  # every JSON event from Node, in order
        self._own_log = False

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=120, wait_repl=True, repl_timeout=10):
        """Boot the board: return once its USB port is up and, with wait_repl, its REPL has
        printed its first prompt (or repl_timeout s have passed: a main.py may be running).

        Waiting for the prompt keeps a fresh board's first boot (which formats littlefs in
        _boot.py) from being interrupted by a host that connects at once.
        """
        if self._proc is not None:
            raise EmulatedBoardError("emulated board already started")
        if not self.firmware.is_file():
            raise EmulatedBoardError(
                "firmware not found: %s (make firmware BOARD=RPI_PICO builds it)" % self.firmware
            )
        if not self.bootrom.is_file():
            raise EmulatedBoardError(
                "RP2040 boot ROM not found: %s (shared/vendor/ beside the repository, or $%s)"
                % (self.bootrom, BOOTROM_ENV)
            )
        ensure_runner(self.node)
        con_m, con_s = _raw_pty()
        tel_m, tel_s = _raw_pty()
        # Node reads and writes each master through its own fd (a read handle and a write handle)
        con_w, tel_w = os.dup(con_m), os.dup(tel_m)
        self._fds = [con_m, con_s, tel_m, tel_s, con_w, tel_w]
        self.console_path = os.ttyname(con_s)
        self.telemetry_path = os.ttyname(tel_s)
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="cellex-emupico-", suffix=".log")
            os.close(fd)
            self.log_path, self._own_log = Path(name), True
        argv = [
            self.node, str(RUNNER_DIR / "run.mjs"),
            "--firmware", str(self.firmware), "--bootrom", str(self.bootrom),
            "--console-fd", "%d,%d" % (con_m, con_w), "--telemetry-fd", "%d,%d" % (tel_m, tel_w),
        ]
        if self.flash is not None:
            argv += ["--flash", str(self.flash)]
        if not self.fastcore:
            argv += ["--fast", "0"]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                pass_fds=(con_m, con_w, tel_m, tel_w), start_new_session=True,
            )
        # Node has its own copies now; ours of the masters would only keep them open after it exits
        for fd in (con_m, tel_m, con_w, tel_w):
            os.close(fd)
        self._fds = [con_s, tel_s]
        self._reader = threading.Thread(target=self._read_events, name="emulated-board", daemon=True)
        self._reader.start()
        try:
            self._wait_event("usb", timeout)
            if wait_repl:
                try:
                    self._wait_event("repl", repl_timeout)
                except EmulatedBoardError:
                    if self.pid is None:
                        raise
        except EmulatedBoardError:
            self.stop(keep_log=True)
            raise
        return self

    def stop(self, timeout=10, keep_log=False):
        """Stop the emulator (its flash is saved when flash= was given); close the ptys. Safe twice."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()  # end of stdin: Node saves the flash and exits
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []
        if self._own_log and not keep_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)

    @property
    def pid(self):
        """Process id of the Node process running the emulator, or None."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def stats(self, timeout=10):
        """Counters from the emulator: instructions, cycles, simNanos, resets, console/telemetry bytes..."""
        with self._cond:
            seen = len(self._events)
        self._command("stats")
        return self._wait_event("stats", timeout, after=seen)

    def wait_repl(self, timeout=120, after=None):
        """Wait for the REPL's first prompt after the last (or the given) event; returns the event."""
        return self._wait_event("repl", timeout, after=after)

    def event_count(self):
        with self._cond:
            return len(self._events)

    def events(self, after=0):
        """Node's events so far (dicts with "event": up, usb, repl, reset (with "reason": force or
        timer), stats), from index `after` on."""
        with self._cond:
            return list(self._events[after:])

    # -- Node's side ----------------------------------------------------------
    def _command(self, line):
        proc = self._proc
        if proc is None:
            raise EmulatedBoardError("emulated board is not running")
        proc.stdin.write((line + "\n").encode())
        proc.stdin.flush()

    def _read_events(self):
        proc = self._proc
        for raw in proc.stdout:
            try:
                ev = json.loads(raw)
            except ValueError:
                continue
            if ev.get("event") == "reset":
                self._hang_up_console()
            with self._cond:
                if ev.get("event") == "reset":
                    self.resets = ev.get("resets", self.resets + 1)
                self._events.append(ev)
                self._cond.notify_all()
        with self._cond:
            self._events.append({"event": "exit"})
            self._cond.notify_all()

    def _hang_up_console(self):
        """At a reset a Pico's USB port vanishes: whoever has it open (mpremote) sees the device go.

        The console pty is hung up and the board opens it again at once, so it keeps its path (as
        /dev/ttyACM0 comes back) and the new chip's output has somewhere to go. The new keeper is
        opened before the old one is closed, so the slave is never closed and Node's master stays
        readable. Without the privilege for TIOCVHANGUP the pty simply stays open across the reset.
        """
        old = self._fds[0]
        try:
            fcntl.ioctl(old, TIOCVHANGUP)
        except OSError:
            return
        new = os.open(self.console_path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(new)
        self._fds[0] = new
        os.close(old)

    def _wait_event(self, name, timeout, after=None):
        with self._cond:

            def found():
                for ev in self._events[after or 0 :]:
                    if ev.get("event") in (name, "exit"):
                        return ev
                return None

            self._cond.wait_for(lambda: found() is not None, timeout)
            ev = found()
        if ev is None or ev.get("event") == "exit":
            log = self.log_path.read_text(errors="replace")[-2000:] if self.log_path else ""
            why = "exited" if ev is not None else "gave no %r within %s s" % (name, timeout)
            raise EmulatedBoardError("emulated Pico %s; log %s:\n%s" % (why, self.log_path, log))
        return ev


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="cellex emulated-board",
        description="Run RPI_PICO MicroPython firmware on an emulated RP2040 (rp2040js): "
        "USB REPL and UART0 on ptys.",
    )
    parser.add_argument(
        "--firmware", default=str(DEFAULT_FIRMWARE), help="firmware.bin (default: %(default)s)"
    )
    parser.add_argument("--flash", help="flash image file: loaded at start if present, saved at stop")
    parser.add_argument("--bootrom", help="RP2040 boot ROM (default: %s)" % default_bootrom())
    parser.add_argument("--info", help="also write the device paths to this file (KEY=VALUE lines)")
    parser.add_argument(
        "--no-fastcore", action="store_true", help="use rp2040js's own decoder (slower; for diagnosis)"
    )
    args = parser.parse_args(argv)

    board = EmulatedBoard(
        args.firmware, flash=args.flash, bootrom=args.bootrom, fastcore=not args.no_fastcore
    )

    def describe():
        banner = "emulated Pico up (rp2040js, node pid %s, firmware %s)" % (board.pid, board.firmware)
        return banner, [
            ("CONSOLE", board.console_path, "e.g. mpremote connect %s" % board.console_path),
            ("TELEMETRY", board.telemetry_path, "(UART0)"),
        ]

    def alive():
        if board.pid is None:
            print("emulated board: the emulator exited; log %s" % board.log_path, file=sys.stderr)
            return False
        return True

    return serve(board, "emulated board", EmulatedBoardError, args.info, describe, alive)


if __name__ == "__main__":
    sys.exit(main())
