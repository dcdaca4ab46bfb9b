"""Deploy cellex to a board with mpremote: compiled package, board config, app; then reset.

    cellex deploy --board RPI_PICO --port /dev/ttyACM0 [--app app.py] [--extra mod.py ...]
    make deploy BOARD=RPI_PICO PORT=/dev/ttyACM0 [APP=app.py]

Runs on stock MicroPython firmware, no rebuild: the package compiled for the
board's architecture (`cellex mpy`, into build/mpy/<BOARD>/cellex/ of a checkout, or
~/.cache/cellex/<version>/mpy/<BOARD>/cellex/ installed) goes to :lib/cellex/
(replacing what was there), boards/<BOARD>/board_config.py to :board_config.py,
the app to :main.py, extra modules to the root; then the board is reset
(main.py runs). Firmware with cellex frozen in (`make firmware`) gets only the
board config, the app and the extras: the frozen package would shadow a copy.
Before copying it checks that the port exists, that a MicroPython REPL answers
on it within seconds (repl_port.py: a wrong port, such as the telemetry one, is
named as such), and that the board's MicroPython runs .mpy of this board's
architecture, and says what to do when not (mpremote's own errors are terse).

Importable: deploy(board, port, ...) -> DeployResult; raises DeployError.
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from cellex_tools import repl_port, resources
from cellex_tools.mpy import ARCH_NAMES, BOARD_ARCH, MpyError, compile_package

# boards/: the checkout's, or the copy an installed wheel carries (resources.py)
BOARDS_DIR = resources.resource("boards")
_SHORTCUTS = {"a": "/dev/ttyACM", "u": "/dev/ttyUSB", "c": "COM"}  # mpremote's a0, u0, c0
DEFAULT_TIMEOUT_S = 120


class DeployError(Exception):
    """Deploy failed; str(e) says what to do."""


class DeployResult:
    def __init__(self, board, port, files, mpy_bytes, board_arch, frozen=False):
        self.board = board
        self.port = port
        self.files = files  # [(local path, remote path)]
        self.mpy_bytes = mpy_bytes  # bytes of cellex .mpy copied
        self.board_arch = board_arch  # what the board reported, e.g. "armv6m"
        self.frozen = frozen  # cellex is frozen into the board's firmware: no .mpy copied

    def __repr__(self):
        return "DeployResult(board=%r, port=%r, files=%d, mpy_bytes=%d)" % (
            self.board, self.port, len(self.files), self.mpy_bytes
        )


def default_mpremote():
    """mpremote as a command (list): $MPREMOTE, its script, or `python -m mpremote` (resources.py)."""
    return resources.mpremote()


def default_mpy_build():
    """Where the package is compiled to: build/mpy in a checkout, a per-user cache installed."""
    return resources.build_dir("mpy")


def boards():
    """Boards with a board_config.py under boards/."""
    return sorted(p.parent.name for p in BOARDS_DIR.glob("*/board_config.py"))


def resolve_port(port):
    """The device path for PORT (a path or an mpremote shortcut such as a0); DeployError if absent."""
    if not port:
        raise DeployError(
            "no port given. Give the board's serial device, e.g. --port /dev/ttyACM0 "
            "(in a checkout: make deploy BOARD=... PORT=/dev/ttyACM0); "
            "list boards with `mpremote connect list`"
        )
    m = re.fullmatch(r"([auc])(\d+)", port)
    device = _SHORTCUTS[m.group(1)] + m.group(2) if m else port
    if re.match(r"^[a-z0-9+]+://", device):
        return device  # pyserial URL (socket://, rfc2217://): nothing to check locally
    if not os.path.exists(device):
        raise DeployError(
            "port %s does not exist. Is the board plugged in (a data USB cable, not charge-only)?\n"
            "  serial ports seen now: %s\n"
            "  list boards with: mpremote connect list\n"
            "  no board? `cellex virtual-board` (make virtual-board) prints a console pty to use with "
            "--board VIRTUAL"
            % (device, ", ".join(_serial_ports()) or "none")
        )
    if not os.access(device, os.R_OK | os.W_OK):
        raise DeployError(
            "no permission to open %s. On Linux add yourself to its group (often `dialout`): "
            "sudo usermod -aG dialout $USER, then log in again" % device
        )
    return device


def _serial_ports():
    try:
        from serial.tools import list_ports
    except ImportError:
        return []
    return [p.device for p in list_ports.comports()]


def _run_mpremote(mpremote, device, args, timeout):
    command = [mpremote] if isinstance(mpremote, (str, os.PathLike)) else list(mpremote)
    cmd = command + ["connect", device] + args
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise DeployError(
            "mpremote not found at %s: run `make venv` in a checkout, or `pip install mpremote` "
            "(or set MPREMOTE=)" % command[0]
        ) from None
    except subprocess.TimeoutExpired:
        raise DeployError(
            "mpremote timed out after %d s on %s: is a program on the board blocking the REPL? "
            "Press reset on the board and try again" % (timeout, device)
        ) from None
    return proc


def _explain_failure(device, proc):
    out = (proc.stdout + proc.stderr).strip()
    if "could not enter raw repl" in out or "failed to access" in out or "timeout waiting" in out:
        return "%s opened, but no MicroPython REPL answered on it.\n%s\nmpremote said: %s" % (
            device, repl_port.advice(device), out[-500:])
    return "mpremote failed on %s (exit %d): %s" % (device, proc.returncode, out[-1000:])


# Clears :lib/cellex (old modules must not linger) and creates the folders.
_PREPARE = """
import os
def _rm(p):
    try:
        for e in os.ilistdir(p):
            q = p + '/' + e[0]
            if e[1] == 0x4000:
                _rm(q)
            else:
                os.remove(q)
        os.rmdir(p)
    except OSError:
        pass
_rm('lib/cellex')
for d in ('lib', 'lib/cellex'):
    try:
        os.mkdir(d)
    except OSError:
        pass
del _rm
"""


# The board's .mpy architecture, and whether cellex is frozen into its firmware (a frozen
# package's __path__ is ".frozen/cellex"; a copied one's "lib/cellex").
_PROBE = """
import sys
print('MPY', getattr(sys.implementation, '_mpy', 0))
try:
    import cellex
    print('FROZEN', '.frozen' in (getattr(cellex, '__path__', '') or ''))
except ImportError:
    print('FROZEN', False)
"""


def probe_board(device, mpremote=None, timeout=DEFAULT_TIMEOUT_S):
    """(native-code architecture the board loads, e.g. "armv6m" or None; cellex frozen in?)."""
    proc = _run_mpremote(mpremote or default_mpremote(), device, ["exec", _PROBE], timeout)
    m = re.search(r"MPY (\d+)", proc.stdout)
    if proc.returncode != 0 or not m:
        raise DeployError(_explain_failure(device, proc))
    return ARCH_NAMES.get(int(m.group(1)) >> 10, "unknown"), "FROZEN True" in proc.stdout


def deploy(board, port, *, mpy_build=None, app=None, extra=(), reset=True, mpremote=None,
           timeout=DEFAULT_TIMEOUT_S):
    """Copy cellex (.mpy), boards/<board>/board_config.py, the app and extra modules; reset.

    board:     a folder under boards/ (RPI_PICO, PYBV11, VIRTUAL)
    port:      serial device (/dev/ttyACM0, a pty, an mpremote shortcut such as a0)
    mpy_build: where the package is compiled to (<mpy_build>/<board>/cellex/*.mpy; see cellex_tools.mpy);
               default build/mpy of the checkout, or a per-user cache folder when installed
    app:       file copied to :main.py (default boards/<board>/main.py if present)
    extra:     files copied to the board's root under their own names
    reset:     hard-reset at the end (machine.reset(): main.py runs)
    Returns a DeployResult; raises DeployError with what to do.
    """
    known = boards()
    if board not in known:
        raise DeployError("unknown board %r. Boards: %s" % (board, ", ".join(known)))
    mpremote = mpremote or default_mpremote()
    device = resolve_port(port)
    if app is None and (BOARDS_DIR / board / "main.py").is_file():
        app = BOARDS_DIR / board / "main.py"
    for f in ([app] if app else []) + list(extra):
        if not Path(f).is_file():
            raise DeployError("no such file to deploy: %s" % f)

    try:
        repl_port.check(device)  # seconds, not mpremote's whole timeout, on a wrong port
    except repl_port.ReplPortError as e:
        raise DeployError(str(e)) from None
    arch, frozen = probe_board(device, mpremote, timeout)
    want = BOARD_ARCH.get(board)
    if arch is not None and want is not None and arch != want:
        raise DeployError(
            "the board on %s runs %s code, but BOARD=%s is built for %s: wrong BOARD or wrong PORT? "
            "Boards: %s" % (device, arch, board, want, ", ".join("%s=%s" % kv for kv in BOARD_ARCH.items()))
        )

    # The firmware's frozen cellex comes before /lib on sys.path: a copy would never load.
    out = Path(mpy_build or default_mpy_build()) / board
    try:
        mpy_files = [] if frozen else [str(f) for f in compile_package(BOARD_ARCH.get(board), out)]
    except MpyError as e:
        raise DeployError(str(e)) from None
    files = [(f, ":lib/cellex/" + os.path.basename(f)) for f in mpy_files]
    files.append((str(BOARDS_DIR / board / "board_config.py"), ":board_config.py"))
    if app:
        files.append((str(app), ":main.py"))
    files += [(str(f), ":" + os.path.basename(str(f))) for f in extra]

    args = ["exec", _PREPARE, "+", "fs", "cp"] + mpy_files + [":lib/cellex/"] if mpy_files else []
    for local, remote in files[len(mpy_files):]:
        args += (["+"] if args else []) + ["fs", "cp", local, remote]
    if reset:
        args += ["+", "reset"]
    proc = _run_mpremote(mpremote, device, args, timeout)
    if proc.returncode != 0:
        raise DeployError(_explain_failure(device, proc))
    mpy_bytes = sum(os.path.getsize(f) for f in mpy_files)
    return DeployResult(board, device, files, mpy_bytes, arch, frozen)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="cellex deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--board", required=True, help="one of: %s" % ", ".join(boards()))
    parser.add_argument("--port", default="", help="serial device, e.g. /dev/ttyACM0 (or a0, u0)")
    parser.add_argument(
        "--mpy-build",
        help="where the compiled package goes (<it>/<BOARD>/cellex; default %s)"
        % resources.shown(default_mpy_build()),
    )
    parser.add_argument("--app", help="file copied to :main.py")
    parser.add_argument("--extra", nargs="*", default=[], help="files copied to the board's root")
    parser.add_argument("--no-reset", action="store_true", help="do not reset the board afterwards")
    args = parser.parse_args(argv)
    try:
        result = deploy(
            args.board, args.port, mpy_build=args.mpy_build, app=args.app, extra=args.extra,
            reset=not args.no_reset,
        )
    except DeployError as e:
        print("deploy: error: %s" % e, file=sys.stderr)
        return 2
    print("deployed %s to %s (%s): %d files, %s%s" % (
        result.board, result.port, result.board_arch, len(result.files),
        "cellex frozen in the firmware" if result.frozen else "%d bytes of cellex .mpy" % result.mpy_bytes,
        ", reset" if not args.no_reset else "",
    ))
    for local, remote in result.files:
        print("  %s -> %s" % (resources.shown(local), remote))
    return 0


if __name__ == "__main__":
    sys.exit(main())
