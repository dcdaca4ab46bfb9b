"""The firmware type-checks against each board's MicroPython stubs and lints clean."""

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
RUFF = str(ROOT / ".venv" / "bin" / "ruff")
BOARDS = ("RPI_PICO", "PYBV11", "VIRTUAL")
TIMEOUT_S = 600


def run(cmd):
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    return proc.returncode, proc.stdout + proc.stderr


def test_firmware_and_boards_lint_clean():
    status, out = run([RUFF, "check", "firmware", "boards", "apps"])
    assert status == 0, out


def test_host_tools_and_tests_lint_clean():
    status, out = run([RUFF, "check", "cellex_tools", "host_tests"])
    assert status == 0, out


@pytest.mark.parametrize("board", BOARDS)
def test_firmware_typechecks_against_the_board_stubs(board):
    # make installs the pinned stubs (boards/<board>/requirements-stubs.txt) into build/stubs/<board>
    status, out = run(["make", "--no-print-directory", "typecheck", "BOARD=" + board])
    assert status == 0, out[-6000:]
    assert "0 errors" in out
