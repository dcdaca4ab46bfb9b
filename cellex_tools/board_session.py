"""BoardSession: run the portable tests on a MicroPython board over its raw REPL.

Used by the pytest option `--board PORT` (host_tests/portable/conftest.py). It
speaks to the board with mpremote's own serial transport (the raw REPL and
raw-paste protocol are mpremote's, not re-implemented here):

1. connect: the port must exist and answer the raw REPL, else BoardError says why;
2. facts: sys.implementation, os.uname(), free heap, native architecture;
3. install: uses the cellex package frozen into the firmware when there is one,
   else cross-compiles it with mpy-cross for the board's architecture and
   copies the .mpy files to lib/cellex/; the test modules and docs/*.json (the
   golden vectors) go to cellex_tests/;
4. run: each test after a soft reset (a fresh VM, like the unix-port runs), with
   a timeout; a hung test is interrupted with Ctrl-C, a board that resets or
   stops answering is reconnected, and both are reported as that test's failure.
"""

import ast
import os
import time
from pathlib import Path

from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from cellex_tools import repl_port
from cellex_tools.mpy import ARCH_NAMES, MpyError, compile_package

ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = ROOT / "host_tests" / "portable"
DOCS_DIR = ROOT / "docs"
BUILD_DIR = ROOT / "build" / "board-tests"
REMOTE_LIB = "lib"
REMOTE_PACKAGE = "lib/cellex"
REMOTE_TESTS = "cellex_tests"
SKIPPED = 77

# os.uname() is missing on the unix port; sys.implementation._machine is not.
_FACTS = (
    "import sys, os, gc\n"
    "gc.collect()\n"
    "u = os.uname() if hasattr(os, 'uname') else None\n"
    "print(repr({'implementation': sys.implementation.name,"
    " 'version': '.'.join(str(v) for v in sys.implementation.version[:3]),"
    " 'mpy': getattr(sys.implementation, '_mpy', 0),"
    " 'machine': u.machine if u else getattr(sys.implementation, '_machine', sys.platform),"
    " 'release': u.release if u else '', 'sysname': u.sysname if u else sys.platform,"
    " 'mem_free': gc.mem_free(), 'mem_alloc': gc.mem_alloc()}))\n"
)

# A frozen package's __file__ differs by port and version (rp2 v1.28: "cellex/__init__.py",
# no ".frozen/" prefix), but its __path__ is ".frozen/cellex" there and on the unix port.
_WHERE_IS_CELLEX = (
    "try:\n"
    "    import cellex\n"
    "    print(repr(getattr(cellex, '__path__', None) or getattr(cellex, '__file__', '.frozen')))\n"
    "except ImportError:\n"
    "    print(repr(None))\n"
)


class BoardError(Exception):
    """The board cannot be used: a missing port, no MicroPython, a failed install."""


class BoardSession:
    """One connection to a board, shared by every [board] test of a pytest run."""

    def __init__(self, port, timeout_s=60.0, connect_timeout_s=10.0):
        self.port = port
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.transport = None
        self.facts = {}
        self.facts_after = {}
        self.package_source = ""
        self.durations = {}

    # -- connection ---------------------------------------------------------

    def connect(self):
        """Open the port and enter the raw REPL, or raise BoardError saying what is wrong."""
        if "://" not in self.port and not os.path.exists(self.port):
            raise BoardError(
                "no such port: %s (is the board plugged in? list ports with `mpremote connect list`)"
                % self.port
            )
        try:
            self.transport = SerialTransport(self.port, baudrate=115200, timeout=1)
        except (TransportError, OSError) as e:
            raise BoardError("cannot open %s: %s (is another program using it?)" % (self.port, e)) from e
        try:
            self._enter_raw_repl()
        except BoardError as e:
            raise BoardError("%s\n%s" % (e, repl_port.advice(self.port))) from e

    def _enter_raw_repl(self):
        try:
            self.transport.enter_raw_repl(soft_reset=True, timeout_overall=self.connect_timeout_s)
        except (TransportError, OSError, ValueError) as e:
            raise BoardError("%s did not answer as a MicroPython raw REPL (%s)" % (self.port, e)) from e

    def close(self):
        if self.transport is not None:
            try:
                self.transport.exit_raw_repl()
                self.transport.close()
            except Exception:  # noqa: BLE001 - closing a dead port must not mask the real error
                pass
            self.transport = None

    def _exec(self, code, timeout=10):
        out, err = self.transport.exec_raw(code, timeout=timeout)
        if err:
            raise BoardError("board error running set-up code:\n" + err.decode(errors="replace"))
        return out.decode(errors="replace")

    def read_facts(self):
        """The board's identity and free heap (a dict)."""
        return ast.literal_eval(self._exec(_FACTS).strip())

    # -- installing the package and tests -----------------------------------

    def install(self):
        """Make cellex and the portable tests importable on the board."""
        self.facts = self.read_facts()
        where = ast.literal_eval(self._exec(_WHERE_IS_CELLEX).strip())
        if where is not None and ".frozen" in where:
            self.package_source = "frozen into the firmware"
        else:
            arch = ARCH_NAMES.get(self.facts["mpy"] >> 10)
            self._copy_package(arch)
            self.package_source = "copied as .mpy (%s) to %s/" % (arch or "bytecode only", REMOTE_PACKAGE)
        self._mkdir(REMOTE_TESTS)
        # The test modules, and the data files they share with the host (support.data_path).
        files = [p for p in sorted(TESTS_DIR.glob("*.py")) if p.name != "conftest.py"]
        for path in files + sorted(DOCS_DIR.glob("*.json")):
            self.transport.fs_writefile(REMOTE_TESTS + "/" + path.name, path.read_bytes())

    def _copy_package(self, arch):
        try:
            files = compile_package(arch, BUILD_DIR / (arch or "bytecode"))
        except MpyError as e:
            raise BoardError(str(e)) from e
        self._mkdir(REMOTE_LIB)
        self._mkdir(REMOTE_PACKAGE)
        for mpy in files:
            self.transport.fs_writefile(REMOTE_PACKAGE + "/" + mpy.name, mpy.read_bytes())

    def _mkdir(self, path):
        if not self.transport.fs_exists(path):
            self.transport.fs_mkdir(path)

    # -- running one test ---------------------------------------------------

    def run_test(self, module, name, timeout_s=None):
        """Run one test in a fresh VM; return (status, output): 0 pass, 1 fail, 77 skip.

        timeout_s: this test's own budget, else the session's timeout."""
        started = time.monotonic()
        try:
            status, output = self._run_test(module, name, timeout_s or self.timeout_s)
        finally:
            self.durations[module + "::" + name] = time.monotonic() - started
        return status, output

    def _run_test(self, module, name, timeout_s):
        code = (
            "import sys\n"
            "sys.path.append(%r)\n"
            "import _mp_runner\n"
            "_mp_runner.run(%r, %r)\n" % (REMOTE_TESTS, module, name)
        )
        try:
            self._enter_raw_repl()
            out, err = self.transport.exec_raw(code, timeout=timeout_s)
        except TransportError as e:
            return 1, self._recover("timed out after %.0f s on the board (%s)" % (timeout_s, e))
        except (OSError, BoardError) as e:
            return 1, self._recover("the board reset or stopped answering during the test (%s)" % e)
        text = out.decode(errors="replace") + err.decode(errors="replace")
        last = text.strip().splitlines()[-1] if text.strip() else ""
        if last == "PASS":
            return 0, text
        if last.startswith("SKIP:"):
            return SKIPPED, last[len("SKIP:") :].strip()
        return 1, text

    def _recover(self, what):
        """Interrupt the board and get back to the raw REPL; say what happened."""
        try:
            self.transport.serial.write(b"\r\x03\x03")
            time.sleep(0.2)
            self._enter_raw_repl()
        except Exception:  # noqa: BLE001 - try a fresh connection once
            try:
                self.transport.close()
            except Exception:  # noqa: BLE001
                pass
            try:
                self.transport = SerialTransport(self.port, baudrate=115200, timeout=1)
                self._enter_raw_repl()
            except Exception as e:  # noqa: BLE001
                return what + "; reconnecting failed too: %s" % e
        return what

    def finish(self):
        """Read the board's facts again (free heap after the suite), then close."""
        try:
            self._enter_raw_repl()
            self.facts_after = self.read_facts()
        except Exception:  # noqa: BLE001 - a summary must not fail the run
            self.facts_after = {}
        self.close()

    def summary_lines(self, slowest=5):
        """Lines for pytest's terminal summary."""
        f = self.facts
        lines = [
            "board %s: MicroPython %s on %s (%s %s), cellex %s"
            % (
                self.port, f.get("version", "?"), f.get("machine", "?"),
                f.get("sysname", "?"), f.get("release", "?"), self.package_source,
            ),  # fmt: skip
            "free heap: %s bytes before the suite, %s after"
            % (f.get("mem_free", "?"), self.facts_after.get("mem_free", "?")),
        ]
        worst = sorted(self.durations.items(), key=lambda kv: -kv[1])[:slowest]
        if worst:
            lines.append("slowest on the board: " + ", ".join("%s %.2f s" % kv for kv in worst))
        return lines
