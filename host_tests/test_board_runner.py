"""The portable suite on a board (`--board PORT`), proven against the virtual board."""

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cellex_tools.board_session import BoardError, BoardSession
from cellex_tools.virtual_board import VirtualBoard

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent


def _pytest(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def board():
    with VirtualBoard() as vb:
        yield vb


@pytest.fixture
def session(board):
    s = BoardSession(board.console_path, timeout_s=3)
    s.connect()
    s.install()
    yield s
    s.close()


def test_the_portable_suite_passes_on_the_virtual_board(board):
    proc = _pytest("host_tests/portable", "--board", board.console_path, "--interp", "board")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " failed" not in proc.stdout
    assert "cellex copied as .mpy (x64)" in proc.stdout
    assert "free heap:" in proc.stdout
    assert "slowest on the board:" in proc.stdout


def test_a_missing_port_is_a_clear_error_and_a_clean_exit():
    proc = _pytest("host_tests/portable/test_harness.py", "--board", "/dev/ttyACM-missing", timeout=60)
    assert proc.returncode == 3
    assert "no such port: /dev/ttyACM-missing" in proc.stdout + proc.stderr


def test_a_port_with_no_micropython_on_it_is_a_clear_error():
    master, slave = pty.openpty()
    stop = threading.Event()

    def babble():
        # Answers everything with noise, as a board running something else would.
        while not stop.is_set():
            try:
                os.read(master, 1024)
                os.write(master, b"\xff\x13garbage\r\n")
            except OSError:
                return

    babbler = threading.Thread(target=babble, daemon=True)
    babbler.start()
    try:
        s = BoardSession(os.ttyname(slave), connect_timeout_s=2)
        with pytest.raises(BoardError, match="did not answer as a MicroPython raw REPL"):
            s.connect()
        s.close()
    finally:
        # End the thread before closing the master: a thread still reading a
        # closed fd number would read whatever file gets that number next.
        stop.set()
        os.close(slave)  # the master's read now fails with EIO
        babbler.join(timeout=5)
        os.close(master)


def _put(session, module, source):
    session.transport.fs_writefile("cellex_tests/%s.py" % module, source.encode())


def test_a_hanging_test_times_out_and_the_next_test_still_runs(session):
    _put(session, "hang_fixture", "def test_hang():\n    while True:\n        pass\n")
    status, output = session.run_test("hang_fixture", "test_hang")
    assert status == 1
    assert "timed out after 3 s on the board" in output
    assert session.run_test("test_harness", "test_runs_under_the_interpreter_it_names")[0] == 0


def test_a_board_that_resets_mid_test_is_reported_and_the_run_goes_on(session):
    _put(session, "reset_fixture", "import machine\n\ndef test_reset():\n    machine.reset()\n")
    status, output = session.run_test("reset_fixture", "test_reset")
    assert status == 1
    assert "board" in output
    assert session.run_test("test_harness", "test_runs_under_the_interpreter_it_names")[0] == 0


def test_a_skipped_test_reports_its_reason_from_the_board(session):
    _put(session, "skip_fixture", "import support\n\ndef test_skip():\n    support.skip('needs a pty')\n")
    assert session.run_test("skip_fixture", "test_skip") == (77, "needs a pty")


def test_make_test_board_without_a_port_says_what_to_pass():
    proc = subprocess.run(["make", "test-board"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "make test-board needs PORT=" in proc.stdout + proc.stderr
