"""Collects the portable tests: each test function becomes one item per interpreter.

A portable test module is plain MicroPython-compatible Python (no pytest
import). Its `test_*` functions run in-process under CPython (`[cpython]`) and
in a fresh MicroPython unix-port process (`[micropython]`); MicroPython's own
traceback is shown when that item fails.
"""

import os
import subprocess
from pathlib import Path

import pytest

import support
from cellex_tools.board_session import BoardError, BoardSession

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SKIP_EXIT = 77
DEFAULT_TIMEOUT_S = 60
EMULATED = "emulated"  # --board emulated: start the emulated Pico for the session


class MicroPythonFailure(Exception):
    """A portable test failed inside MicroPython; args[0] is its output."""


def micropython_command(config):
    """The argv prefix that runs the MicroPython unix port for portable tests."""
    binary = os.environ.get("MICROPYTHON") or str(ROOT / ".venv" / "bin" / "micropython")
    cmd = [binary]
    heapsize = config.getoption("--mp-heapsize")
    if heapsize:
        cmd += ["-X", "heapsize=" + heapsize]
    return cmd


def micropython_path(config):
    """MICROPYPATH for portable tests: the package from source, or from .mpy files."""
    package_dir = os.path.abspath(config.getoption("--mpy-dir") or str(ROOT / "firmware"))
    return os.pathsep.join([package_dir, str(HERE)])


def run_on_micropython(config, module, name):
    """Run one test function in the MicroPython unix port; return (status, output)."""
    env = dict(os.environ, MICROPYPATH=micropython_path(config))
    cmd = micropython_command(config) + [str(HERE / "_mp_runner.py"), module, name]
    try:
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=DEFAULT_TIMEOUT_S, cwd=str(HERE)
        )
    except FileNotFoundError:
        pytest.fail("MicroPython not found at %s: run `make venv` or set MICROPYTHON=" % cmd[0], False)
    except subprocess.TimeoutExpired:
        pytest.fail("timed out after %d s inside MicroPython" % DEFAULT_TIMEOUT_S, False)
    return proc.returncode, proc.stdout + proc.stderr


class PortableItem(pytest.Item):
    def __init__(self, *, interpreter, function, **kwargs):
        super().__init__(**kwargs)
        self.interpreter = interpreter
        self.function = function

    def runtest(self):
        if self.interpreter == "cpython":
            try:
                self.function()
            except support.SkipTest as e:
                pytest.skip(str(e))
            return
        module = self.function.__module__
        if self.interpreter == "board":
            # A test that needs longer on a board declares it (support.board_budget).
            budget = getattr(self.function, "board_budget_s", None)
            status, output = self.config.cellex_board.run_test(module, self.function.__name__, budget)
        else:
            status, output = run_on_micropython(self.config, module, self.function.__name__)
        if status == SKIP_EXIT:
            pytest.skip(output.strip().removeprefix("SKIP:").strip())
        if status != 0:
            raise MicroPythonFailure(output)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            where = "on the board" if self.interpreter == "board" else "in the unix port"
            return "MicroPython traceback (%s):\n%s" % (where, excinfo.value.args[0])
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, self.name


class PortableModule(pytest.Module):
    def collect(self):
        module = self.obj
        for name, fn in vars(module).items():
            if not (name.startswith("test_") and callable(fn)):
                continue
            for interpreter in self.config.cellex_interpreters:
                yield PortableItem.from_parent(
                    self, name="%s[%s]" % (name, interpreter), interpreter=interpreter, function=fn
                )


def pytest_pycollect_makemodule(module_path, parent):
    if module_path.name.startswith("test_"):
        return PortableModule.from_parent(parent, path=module_path)
    return None


def pytest_collection_finish(session):
    """Connect to the board and install the package once, if any [board] test was collected."""
    config = session.config
    config.cellex_board = None
    if not any(getattr(item, "interpreter", "") == "board" for item in session.items):
        return
    port = config.getoption("--board")
    config.cellex_emulated = None
    if port == EMULATED:
        port = _start_emulated_pico(config)
    board = BoardSession(port, timeout_s=config.getoption("--board-timeout"))
    try:
        board.connect()
        board.install()
    except BoardError as e:
        board.close()
        _stop_emulated_pico(config)
        pytest.exit("board: %s" % e, returncode=3)
    config.cellex_board = board


def _start_emulated_pico(config):
    """`--board emulated`: the RPI_PICO firmware on the emulated RP2040; returns its REPL pty."""
    from cellex_tools.emulated_board import DEFAULT_FIRMWARE, EmulatedBoard, EmulatedBoardError

    if not DEFAULT_FIRMWARE.exists():
        pytest.exit("board: no firmware at %s: run `make firmware BOARD=RPI_PICO`" % DEFAULT_FIRMWARE, 3)
    emulated = EmulatedBoard(DEFAULT_FIRMWARE)
    try:
        emulated.start()
    except EmulatedBoardError as e:
        pytest.exit("board: the emulated Pico did not start: %s" % e, returncode=3)
    config.cellex_emulated = emulated
    return emulated.console_path


def _stop_emulated_pico(config):
    emulated = getattr(config, "cellex_emulated", None)
    if emulated is not None:
        emulated.stop()
        config.cellex_emulated = None


def pytest_terminal_summary(terminalreporter, config):
    board = getattr(config, "cellex_board", None)
    if board is None:
        return
    board.finish()
    terminalreporter.section("board")
    for line in board.summary_lines():
        terminalreporter.write_line(line)
    emulated = getattr(config, "cellex_emulated", None)
    if emulated is not None:
        terminalreporter.write_line("emulated RP2040: %s" % emulated.stats())
    _stop_emulated_pico(config)
