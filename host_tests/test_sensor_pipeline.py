"""apps/sensor_pipeline.py, the protocols example, run whole: CPython, the unix port, the emulated Pico."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cellex_tools.emulated_board import DEFAULT_FIRMWARE, EmulatedBoard, default_bootrom

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "apps" / "sensor_pipeline.py"
MICROPYTHON = os.environ.get("MICROPYTHON") or str(ROOT / ".venv" / "bin" / "micropython")
MPREMOTE = str(ROOT / ".venv" / "bin" / "mpremote")
_DONE = re.compile(r"cellex pipeline: done (.*)")

# The script is deterministic: the same counts wherever it runs.
EXPECTED = {
    "readings": "60",
    "published": "63",  # one a reading, plus the burst of three more
    "filtered": "63",  # the filter's mailbox took every reading
    "logged": "61",  # the logger's two-slot mailbox overflowed in the burst ...
    "logger_dead": "2",  # ... two dead letters, for the logger only
    "asks": "10",
    "replies": "9",
    "timeouts": "1",
    "deferred": "5",  # the second command of each pair waited for the first's answer
    "late_replies": "1",  # the missed request's answer came after its timeout
    "dead_letters": "3",
    "watched_full": "2",  # the hook saw every dead letter, with its reason
    "watched_late": "1",
    "failures": "0",
    "answers": "RRRRTRRRRR",  # the 5th request timed out; the next were answered in time
}


def _counts(output):
    done = _DONE.search(output)
    assert done, output
    return dict(kv.split("=") for kv in done.group(1).split())


def _run(cmd, env):
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _counts(proc.stdout)


def _expected_in(counts):
    return {k: counts.get(k) for k in EXPECTED} == EXPECTED


def test_on_cpython_every_reading_request_and_dead_letter_is_accounted_for():
    counts = _run([sys.executable, str(APP)], dict(os.environ, PYTHONPATH=str(ROOT / "firmware")))
    assert _expected_in(counts), counts


def test_on_the_unix_port_the_same_and_the_run_takes_no_heap():
    counts = _run([MICROPYTHON, str(APP)], dict(os.environ, MICROPYPATH=str(ROOT / "firmware")))
    assert _expected_in(counts), counts
    assert counts["heap_run"] == "0"


@pytest.mark.skipif(not DEFAULT_FIRMWARE.is_file(), reason="no RPI_PICO firmware: make chip-firmware")
@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.skipif(not default_bootrom().is_file(), reason="no RP2040 boot ROM")
def test_on_the_emulated_pico_the_same_and_the_run_takes_no_heap():
    with EmulatedBoard(DEFAULT_FIRMWARE) as board:
        proc = subprocess.run(
            [MPREMOTE, "connect", board.console_path, "run", str(APP)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    counts = _counts(proc.stdout)
    assert _expected_in(counts), counts
    assert counts["heap_run"] == "0"
