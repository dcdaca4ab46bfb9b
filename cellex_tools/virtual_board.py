"""Virtual board: the MicroPython unix port behind pseudo-terminals, driven like a real board.

    python -m cellex_tools.virtual_board [--fs DIR] [--heapsize 200k]

prints two device paths and runs until Ctrl-C / SIGTERM:

- console: the board's REPL. `mpremote connect <console> ...` works as with a
  USB board: raw REPL, raw-paste, `fs cp`, `run`, `exec`, `soft-reset`, `reset`.
- telemetry: the board's telemetry UART. Code on the board writes to it with
  `machine.UART(...)` / `board_uart.UART(...)` / `board_config.telemetry_uart()`;
  the host reads it like a USB-serial adapter (pyserial, the monitor).

How it works: the MicroPython REPL runs on a pty of its own (its real REPL:
friendly and raw REPL, raw-paste mode). A relay thread copies bytes between
that pty and the console pty the user opens, and between the board's telemetry
pty and the host's. The relay plays the board's reset logic, which the unix
port does not have: when the interpreter exits (Ctrl-D, sys.exit(),
machine.soft_reset() = soft reset; machine.reset() = hard reset) it prints
"MPY: soft reboot", starts a fresh interpreter in the same directory and puts
it back in the raw REPL if that is where it was, or runs main.py (as a board
does) if it was in the friendly REPL. The board's filesystem is a host folder:
the interpreter's working directory, with sys.path = ['', <rom>, './lib'], where
<rom> (boards/VIRTUAL) plays the part of the firmware's frozen modules.

Importable API:

    with VirtualBoard(fs_dir=None, heapsize=None) as board:
        board.console_path     # give to mpremote
        board.telemetry_path   # give to the monitor / pyserial
        board.fs_dir           # the board's filesystem on the host
"""

import argparse
import ctypes
import errno
import fcntl
import os
import pty
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from pathlib import Path

from cellex_tools import resources
from cellex_tools.board_cli import serve

# boards/VIRTUAL: the checkout's, or the copy an installed wheel carries (resources.py)
ROM_DIR = resources.resource("boards", "VIRTUAL")
TELEMETRY_ENV = "CELLEX_TELEMETRY_TTY"
HARD_RESET_EXIT = 120  # boards/VIRTUAL/machine.py: machine.reset()
# boards/VIRTUAL/machine.py: reset_cause() reads why the interpreter started from
# RESET_CAUSE_ENV ("power-on", "hard", "soft", "watchdog"); machine.WDT writes
# "T<timeout ms>\n" once, then "F" per feed, to the pipe at WDT_FD_ENV.
RESET_CAUSE_ENV = "CELLEX_RESET_CAUSE"
WDT_FD_ENV = "CELLEX_WDT_FD"

_RAW_BANNER = b"raw REPL; CTRL-B to exit"
_FRIENDLY_BANNER = b'Type "help()" for more information.'
_PROMPT = b">>> "
# output endings of a REPL waiting for input: raw prompt, friendly prompts, raw-paste window
_READING = (b">", b">>> ", b"... ", b"\x01")
_SOFT_REBOOT = b"MPY: soft reboot\r\n"
_READ = 4096
_READY_ENV = "CELLEX_VB_READY_FD"
# Runs main.py as a board's pyexec_file does (in __main__, tracebacks name
# main.py), after telling the relay that Ctrl-C now interrupts Python code.
_MAIN_LAUNCHER = (
    "import os\n"
    "_f = open('/dev/fd/' + os.getenv('%s'), 'wb')\n"
    "_f.write(b'R')\n"
    "_f.close()\n"
    "del _f\n"
    "exec(compile(open('main.py').read(), 'main.py', 'exec'))\n" % _READY_ENV
)


def default_micropython():
    """The unix port binary: $MICROPYTHON, the checkout's .venv/bin, beside this Python, on PATH.

    Raises VirtualBoardError saying which command installs it when it is nowhere."""
    try:
        return resources.micropython()
    except resources.MissingTool as e:
        raise VirtualBoardError(str(e)) from None


def _raw_pty(isig=False):
    """A pty pair with the slave in raw mode (no CR/LF translation, no echo)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    if isig:
        # Ctrl-C while code runs must reach MicroPython as SIGINT (KeyboardInterrupt),
        # as it does on a tty; the REPL itself turns ISIG off while it reads input.
        attrs = termios.tcgetattr(slave)
        attrs[3] |= termios.ISIG
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
    os.set_blocking(master, False)
    return master, slave


def _child_setup():
    # Runs in the child between fork and exec: own session with the pty as its
    # controlling terminal (so ISIG delivers SIGINT), and die with the relay
    # thread that started it, so no interpreter outlives its board.
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    # Until the interpreter runs code it has no Ctrl-C handler of its own; the
    # relay holds input until then, and an early SIGINT is ignored, not fatal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class VirtualBoardError(RuntimeError):
    pass


class VirtualBoard:
    """A MicroPython unix-port board on two ptys. Use as a context manager, or start()/stop().

    fs_dir:      the board's filesystem (created if missing); a temporary folder,
                 removed at stop(), when None
    heapsize:    MicroPython heap, e.g. "200k" (the unix port's -X heapsize=)
    micropython: the unix port binary (default: default_micropython(), found at start())
    rom_dirs:    folders that stand for the firmware's frozen modules (default: boards/VIRTUAL)
    """

    def __init__(self, fs_dir=None, *, heapsize=None, micropython=None, rom_dirs=None):
        self._own_fs = fs_dir is None
        self.fs_dir = Path(fs_dir) if fs_dir is not None else None
        self.heapsize = heapsize
        self.micropython = micropython  # None: default_micropython(), looked up at start()
        self.rom_dirs = [Path(d) for d in (rom_dirs if rom_dirs is not None else [ROM_DIR])]
        self.console_path = None
        self.telemetry_path = None
        self.resets = 0  # interpreter restarts (soft + hard + watchdog)
        self.watchdog_resets = 0  # interpreters killed by their machine.WDT running out
        self._cause = "power-on"  # why the next interpreter starts
        self._wdt_r = None  # read end of the running interpreter's watchdog pipe
        self._wdt_timeout = 0.0  # seconds; 0: its WDT is not started
        self._wdt_deadline = 0.0
        self._wdt_fired = False
        self.console_dropped = 0  # console bytes nobody was there to read
        self.telemetry_bytes = 0  # telemetry bytes the board wrote
        self.telemetry_dropped = 0  # telemetry bytes dropped: nobody read the host side
        self._thread = None
        self._child = None
        self._fds = []
        self._stopping = False
        self._started = threading.Event()
        self._start_error = None
        self._wake_r = self._wake_w = None

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=30):
        """Open the ptys, start the interpreter and the relay; returns self."""
        if self._thread is not None:
            raise VirtualBoardError("virtual board already started")
        if self.micropython is None:
            self.micropython = default_micropython()
        elif not (os.path.exists(self.micropython) or shutil.which(self.micropython)):
            raise VirtualBoardError(resources.missing_unix_port(self.micropython))
        if self._own_fs:
            self.fs_dir = Path(tempfile.mkdtemp(prefix="cellex-vboard-"))
        self.fs_dir.mkdir(parents=True, exist_ok=True)
        # console: the user's side (mpremote) and the interpreter's side
        self._con_m, self._con_s = _raw_pty()
        # telemetry: the board writes the slave of _tel_board; the host opens the slave of _tel_host
        self._tel_board_m, self._tel_board_s = _raw_pty()
        self._tel_host_m, self._tel_host_s = _raw_pty()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        # The relay keeps the user-side slaves open itself, so the masters stay
        # usable while no program has the device open (as a board's UART does).
        self._fds = [
            self._con_m, self._con_s, self._tel_board_m, self._tel_board_s,
            self._tel_host_m, self._tel_host_s, self._wake_r, self._wake_w,
        ]
        self.console_path = os.ttyname(self._con_s)
        self.telemetry_path = os.ttyname(self._tel_host_s)
        self._board_tel_path = os.ttyname(self._tel_board_s)
        self._stopping = False
        self._thread = threading.Thread(target=self._relay, name="virtual-board", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            self.stop()
            raise VirtualBoardError("virtual board did not start within %s s" % timeout)
        if self._start_error is not None:
            self.stop()
            raise VirtualBoardError("virtual board failed to start: %s" % self._start_error)
        return self

    def stop(self, timeout=10):
        """Stop the interpreter and the relay; close every pty. Safe to call twice."""
        if self._thread is None:
            return
        self._stopping = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass
        self._thread.join(timeout)
        self._kill_child()
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []
        self._thread = None
        if self._own_fs and self.fs_dir is not None:
            shutil.rmtree(self.fs_dir, ignore_errors=True)

    @property
    def pid(self):
        """Process id of the running interpreter (changes at every reset), or None."""
        child = self._child
        return child.pid if child is not None and child.poll() is None else None

    # -- the interpreter -----------------------------------------------------
    def _spawn(self, run_main):
        """Start an interpreter; returns the read end of its ready pipe, or None.

        Input is held back until the interpreter is ready: at its first REPL
        prompt, or (running main.py) when the ready pipe says main.py started.
        """
        m, s = _raw_pty(isig=True)
        argv = [self.micropython]
        if self.heapsize:
            argv += ["-X", "heapsize=%s" % self.heapsize]
        env = dict(os.environ)
        # "./lib" ends in "/lib", which is how `mpremote mip install` finds a board's lib folder.
        env["MICROPYPATH"] = os.pathsep.join([""] + [str(d) for d in self.rom_dirs] + ["./lib"])
        env[TELEMETRY_ENV] = self._board_tel_path
        env[RESET_CAUSE_ENV] = self._cause
        self._close_wdt()
        wdt_r, wdt_w = os.pipe()
        os.set_blocking(wdt_r, False)
        env[WDT_FD_ENV] = str(wdt_w)
        pass_fds = [wdt_w]
        ready_r = ready_w = None
        if run_main and (self.fs_dir / "main.py").is_file():
            ready_r, ready_w = os.pipe()
            env[_READY_ENV] = str(ready_w)
            pass_fds.append(ready_w)
            argv += ["-i", "-c", _MAIN_LAUNCHER]  # a board runs main.py, then its REPL
        try:
            self._child = subprocess.Popen(
                argv, stdin=s, stdout=s, stderr=s, cwd=str(self.fs_dir), env=env,
                close_fds=True, pass_fds=tuple(pass_fds), preexec_fn=_child_setup,
            )
        finally:
            os.close(s)
            os.close(wdt_w)
            if ready_w is not None:
                os.close(ready_w)
        self._child_m = m
        self._wdt_r = wdt_r
        return ready_r

    # -- the watchdog (machine.WDT on the board) -----------------------------
    def _close_wdt(self):
        if self._wdt_r is not None:
            os.close(self._wdt_r)
            self._wdt_r = None
        self._wdt_timeout = 0.0
        self._wdt_fired = False

    def _pump_wdt(self):
        """Read the interpreter's watchdog pipe: "T<ms>\n" starts it, "F" feeds it."""
        data = self._read(self._wdt_r) or b""
        now = time.monotonic()
        start = data.find(b"T")
        if start >= 0:
            end = data.find(b"\n", start)
            self._wdt_timeout = int(data[start + 1 : end]) / 1000.0
            self._wdt_deadline = now + self._wdt_timeout
        if b"F" in data and self._wdt_timeout:
            self._wdt_deadline = now + self._wdt_timeout

    def _wdt_wait(self, longest):
        """Seconds select() may wait before the watchdog must be checked."""
        if not self._wdt_timeout or self._wdt_fired:
            return longest
        return max(0.0, min(longest, self._wdt_deadline - time.monotonic()))

    def _check_wdt(self):
        """A watchdog not fed in time resets the board: the interpreter is killed (its
        pty then reads as closed, and the relay restarts it as after a reset)."""
        if self._wdt_timeout and not self._wdt_fired and time.monotonic() >= self._wdt_deadline:
            self._wdt_fired = True
            self._signal_child(signal.SIGKILL)

    def _kill_child(self):
        child, self._child = self._child, None
        if child is None:
            return
        if child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                child.wait(3)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except OSError:
                    pass
                child.wait(3)
        m, self._child_m = getattr(self, "_child_m", None), None
        if m is not None:
            try:
                os.close(m)
            except OSError:
                pass

    # -- the relay ------------------------------------------------------------
    def _relay(self):
        sel = selectors.DefaultSelector()
        try:
            ready_r = self._spawn(run_main=True)
        except Exception as e:  # noqa: BLE001 - reported to start()
            self._start_error = e
            self._started.set()
            return
        self._started.set()
        raw_mode = False  # where the REPL is: raw (mpremote) or friendly
        booting_raw = False  # restarted in raw mode: hide the banner, then send Ctrl-A
        ready = False  # the interpreter may be sent input (see _spawn)
        tail = b""  # last bytes of interpreter output, for banners split across reads
        to_child = bytearray()  # user input waiting for the interpreter
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        sel.register(self._con_m, selectors.EVENT_READ, "console")
        sel.register(self._tel_board_m, selectors.EVENT_READ, "telemetry")
        sel.register(self._child_m, selectors.EVENT_READ, "child")
        sel.register(self._wdt_r, selectors.EVENT_READ, "wdt")
        if ready_r is not None:
            sel.register(ready_r, selectors.EVENT_READ, "ready")
        try:
            while not self._stopping:
                for key, _ in sel.select(self._wdt_wait(0.5)):
                    what = key.data
                    if what == "telemetry":
                        self._pump_telemetry()
                    elif what == "wdt":
                        self._pump_wdt()
                    elif what == "console":
                        data = self._read(self._con_m)
                        if data and ready and b"\x03" in data and self._executing_without_isig(tail):
                            data = data.replace(b"\x03", b"")
                            self._signal_child(signal.SIGINT)
                        if data:
                            to_child += data
                    elif what == "ready":
                        sel.unregister(ready_r)
                        os.close(ready_r)
                        ready_r = None
                        ready = True
                    elif what == "child":
                        data = self._read(self._child_m)
                        if data is None:
                            # the interpreter exited: the board resets
                            sel.unregister(self._child_m)
                            sel.unregister(self._wdt_r)
                            if ready_r is not None:
                                sel.unregister(ready_r)
                                os.close(ready_r)
                            watchdog = self._wdt_fired
                            hard = self._reap_child() == HARD_RESET_EXIT or watchdog
                            if self._stopping:
                                break
                            self.resets += 1
                            if watchdog:
                                self.watchdog_resets += 1
                                self._cause = "watchdog"
                            else:
                                self._cause = "hard" if hard else "soft"
                            if hard:
                                raw_mode = False
                            else:
                                self._to_console(_SOFT_REBOOT)
                            ready_r = self._spawn(run_main=not raw_mode)
                            booting_raw = raw_mode
                            ready = False
                            tail = b""
                            sel.register(self._child_m, selectors.EVENT_READ, "child")
                            sel.register(self._wdt_r, selectors.EVENT_READ, "wdt")
                            if ready_r is not None:
                                sel.register(ready_r, selectors.EVENT_READ, "ready")
                            break
                        window = tail + data
                        tail = window[-64:]
                        if not ready and window.endswith(_PROMPT):
                            ready = True
                            if booting_raw:
                                booting_raw = False
                                tail = b""
                                os.write(self._child_m, b"\x01")  # back into the raw REPL
                                continue
                        if booting_raw:
                            continue
                        r, f = window.rfind(_RAW_BANNER), window.rfind(_FRIENDLY_BANNER)
                        if r != -1 or f != -1:
                            raw_mode = r > f
                        self._to_console(data)
                # After the events: a feed that came with them counts before the deadline is checked.
                self._check_wdt()
                if to_child and ready:
                    try:
                        n = os.write(self._child_m, to_child)
                        del to_child[:n]
                    except OSError:
                        pass  # full, or the interpreter is exiting: the reset path takes over
        finally:
            sel.close()
            if ready_r is not None:
                os.close(ready_r)
            self._close_wdt()

    def _executing_without_isig(self, tail):
        """True while code runs with the tty raw (raw-paste mode), where Ctrl-C is just a byte.

        A board's UART driver turns Ctrl-C into KeyboardInterrupt whatever the
        REPL is doing; the unix port relies on the tty's ISIG, which its raw-paste
        mode leaves off. Reading input ends its output with a prompt.
        """
        if tail.endswith(_READING):
            return False
        try:
            return not termios.tcgetattr(self._child_m)[3] & termios.ISIG
        except (OSError, termios.error):
            return False

    def _signal_child(self, sig):
        """Send `sig` to the running interpreter's process group (nothing once it has exited)."""
        child = self._child
        if child is not None and child.poll() is None:
            try:
                os.killpg(child.pid, sig)
            except OSError:
                pass

    def _reap_child(self):
        """Wait for the exited interpreter, close its pty; returns its exit status."""
        child = self._child
        try:
            code = child.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        self._kill_child()
        return code

    @staticmethod
    def _read(fd):
        """Bytes read from a pty master; b"" when nothing now; None when the other side is gone."""
        try:
            data = os.read(fd, _READ)
        except BlockingIOError:
            return b""
        except OSError as e:
            if e.errno == errno.EIO:
                return None
            raise
        return data if data else None

    def _to_console(self, data):
        try:
            n = os.write(self._con_m, data)
        except BlockingIOError:
            n = 0
        self.console_dropped += len(data) - n

    def _pump_telemetry(self):
        data = self._read(self._tel_board_m)
        if not data:
            return
        self.telemetry_bytes += len(data)
        try:
            n = os.write(self._tel_host_m, data)
        except BlockingIOError:
            n = 0
        self.telemetry_dropped += len(data) - n


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="cellex virtual-board",
        description="Run the MicroPython unix port as a board: console and telemetry UART on ptys.",
    )
    parser.add_argument("--fs", help="the board's filesystem folder (default: a temporary folder)")
    parser.add_argument("--heapsize", help="MicroPython heap size, e.g. 200k (a Pico has about 200 KB)")
    parser.add_argument("--info", help="also write the device paths to this file (KEY=VALUE lines)")
    args = parser.parse_args(argv)

    board = VirtualBoard(fs_dir=args.fs, heapsize=args.heapsize)
    def describe():
        return "virtual board up (MicroPython unix port, pid %s)" % board.pid, [
            ("CONSOLE", board.console_path, "e.g. mpremote connect %s" % board.console_path),
            ("TELEMETRY", board.telemetry_path, ""),
            ("FS", board.fs_dir, ""),
        ]

    return serve(board, "virtual board", VirtualBoardError, args.info, describe)


if __name__ == "__main__":
    sys.exit(main())
