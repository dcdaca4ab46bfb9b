"""The monitor's captures: --record on a real pty, --replay from a file or stdin, live and replay alike."""

import io
import json
import os
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import pytest
from telemetry_frames import Board

from cellex_tools import monitor as mon
from cellex_tools.capture import CaptureReader, CaptureWriter

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent


class Status(io.StringIO):
    """The monitor's status stream; `opened` is set once it says it is reading the port."""

    def __init__(self):
        super().__init__()
        self.opened = threading.Event()

    def write(self, text):
        if "reading " in text:
            self.opened.set()
        return super().write(text)


def _live(tmp_path, pieces, **options):
    """Run the monitor on a pty, recording; write `pieces` with a pause between; then hang up.
    Returns (stdout lines, the capture's path)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    capture = tmp_path / "live.pcap"
    out, status = io.StringIO(), Status()
    run = threading.Thread(
        target=mon.monitor,
        args=(os.ttyname(slave),),
        kwargs=dict(out=out, status=status, record=str(capture), **options),
    )
    run.start()
    assert status.opened.wait(30), status.getvalue()
    for piece in pieces:
        os.write(master, piece)
        time.sleep(0.15)  # separate reads, so the capture has several chunks at different times
    os.close(master)
    run.join(30)
    os.close(slave)
    assert not run.is_alive()
    return out.getvalue().splitlines(), capture


def _replay(capture, fast=True, **options):
    out = io.StringIO()
    with open(capture, "rb") as f:
        summary = mon.monitor(replay=f, fast=fast, out=out, **options)
    return out.getvalue().splitlines(), summary


def _stream_pieces():
    """Failures, a frame cut across two writes, garbage, a rebooted board's first failures."""
    board = Board()
    first = board.failures(4)
    cut = len(first) - 20
    return [first[:cut], first[cut:] + b"\x13\x37garbage\x00", board.failures(3), Board().failures(2)]


def test_a_replay_prints_the_same_lines_as_the_live_monitor_did(tmp_path):
    live, capture = _live(tmp_path, _stream_pieces())
    replayed, summary = _replay(capture)
    hung_up = [line for line in live if line.startswith("!! port closed")]  # the pty hung up
    assert len(hung_up) == 1
    assert replayed == [line for line in live if line not in hung_up]
    assert sum("fault" in line for line in replayed) == 9
    assert (summary["failures"], summary["malformed"], summary["reboots"]) == (9, 1, 1)


def test_json_lines_of_a_replay_carry_the_recorded_host_times(tmp_path):
    live, capture = _live(tmp_path, _stream_pieces(), json_mode=True)
    replayed, _ = _replay(capture, json_mode=True)
    assert [line for line in live if '"port closed' not in line] == replayed
    with open(capture, "rb") as f:
        read_at = {chunk_time for chunk_time, _ in CaptureReader(f)}
    records = [json.loads(line) for line in replayed if '"failure"' in line]
    assert len(records) == 9 and all(r["host_time"] in read_at for r in records)


def test_a_capture_records_each_read_with_its_host_time(tmp_path):
    pieces = _stream_pieces()
    before = time.time()
    _, capture = _live(tmp_path, pieces)
    with open(capture, "rb") as f:
        chunks = list(CaptureReader(f))
    assert b"".join(data for _, data in chunks) == b"".join(pieces)
    stamps = [t for t, _ in chunks]
    assert before <= stamps[0] and stamps == sorted(stamps) and stamps[-1] - stamps[0] >= 0.3


def _capture_file(tmp_path, chunks):
    path = tmp_path / "made.pcap"
    with open(path, "wb") as f:
        writer = CaptureWriter(f)
        for t, data in chunks:
            writer.write(t, data)
    return path


def test_a_replay_keeps_the_recorded_pace_unless_fast(tmp_path):
    board = Board()
    capture = _capture_file(tmp_path, [(1000.0, board.failures(1)), (1000.8, board.failures(1))])
    started = time.monotonic()
    _, summary = _replay(capture, fast=False)
    paced = time.monotonic() - started
    started = time.monotonic()
    _replay(capture, fast=True)
    fast = time.monotonic() - started
    assert summary["failures"] == 2
    assert 0.8 <= paced < 2 and fast < 0.5


def test_the_monitor_command_replays_a_capture_from_standard_input(tmp_path):
    capture = _capture_file(tmp_path, [(1000.0, Board().failures(3))])
    proc = subprocess.run(
        [sys.executable, "-m", "cellex_tools.monitor", "--replay", "-", "--fast"],
        input=capture.read_bytes(), capture_output=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 0, proc.stderr
    assert [line.split("  ")[2] for line in lines[:3]] == [
        "/user/sensors/imu",
        "/user/sensors/baro",
        "/user/net/mqtt",
    ]
    assert proc.stderr.decode() == "monitor: replaying - (full speed)\n"


def test_a_capture_cut_inside_a_record_replays_every_whole_record_and_says_so(tmp_path):
    board = Board()
    capture = _capture_file(tmp_path, [(1000.0, board.failures(2)), (1001.0, board.failures(2))])
    capture.write_bytes(capture.read_bytes()[:-10])
    lines, summary = _replay(capture)
    assert summary["failures"] == 2
    assert lines[2].startswith("!! capture cut inside a record (")


def test_a_file_that_is_not_a_capture_is_a_one_line_error_and_exit_status_1(tmp_path, capsys):
    not_capture = tmp_path / "notes.txt"
    not_capture.write_text("hello, this is not a pcap file at all\n")
    assert mon.main(["--replay", str(not_capture)]) == mon.EXIT_PORT
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "monitor: not a capture: no microsecond pcap magic at the start"


def test_a_missing_replay_file_is_a_one_line_error_and_exit_status_1(tmp_path, capsys):
    assert mon.main(["--replay", str(tmp_path / "none.pcap")]) == mon.EXIT_PORT
    assert capsys.readouterr().err == "monitor: cannot read %s: No such file or directory\n" % (
        tmp_path / "none.pcap"
    )
