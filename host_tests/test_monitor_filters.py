"""What the monitor shows and counts: --actor / --error filters, the exit table, restarts vs reboots."""

import io
import json
from pathlib import Path

import pytest
from telemetry_frames import Board, supervised_run

from cellex_tools import monitor as mon
from cellex_tools.capture import CaptureWriter
from cellex_tools.monitor_tally import RecordFilter

pytestmark = pytest.mark.host_only

VECTORS = json.loads((Path(__file__).resolve().parent.parent / "docs" / "wire-vectors.json").read_text())
DROP_REPORT = bytes.fromhex(next(v["hex"] for v in VECTORS["vectors"] if v["name"] == "drop_report"))


def _capture(*streams):
    """A capture in memory: each stream one chunk, a second apart."""
    f = io.BytesIO()
    writer = CaptureWriter(f)
    for i, data in enumerate(streams):
        writer.write(1000.0 + i, data)
    f.seek(0)
    return f


def _run(*streams, **options):
    out = io.StringIO()
    summary = mon.monitor(replay=_capture(*streams), fast=True, out=out, **options)
    return out.getvalue().splitlines(), summary


def _paths(lines):
    return [line.split("  ")[2] for line in lines if "fault " in line]


def test_an_actor_filter_shows_that_subtree_only():
    lines, _ = _run(Board().failures(6), accept=RecordFilter(actors=["/user/sensors"]))
    assert _paths(lines) == ["/user/sensors/imu", "/user/sensors/baro"] * 2


def test_an_actor_prefix_matches_whole_path_segments():
    lines, summary = _run(Board().failures(6), accept=RecordFilter(actors=["/user/sens"]))
    assert _paths(lines) == []
    assert summary["failures"] == 6  # decoded, counted, not shown


def test_an_error_filter_shows_that_error_type_only():
    lines, _ = _run(Board().failures(6), accept=RecordFilter(errors=["ValueError"]))
    assert _paths(lines) == ["/user/net/mqtt"] * 2
    assert all("ValueError: fault" in line for line in lines if "fault " in line)


def test_actor_and_error_filters_both_apply():
    accept = RecordFilter(actors=["/user/sensors"], errors=["SensorFault", "ValueError"])
    lines, _ = _run(Board().failures(6), accept=accept)
    assert _paths(lines) == ["/user/sensors/baro"] * 2


def test_board_level_records_pass_every_filter():
    lines, _ = _run(Board().failures(1) + DROP_REPORT, accept=RecordFilter(actors=["/nowhere"], errors=["X"]))
    assert _paths(lines) == []
    assert any("board dropped 3 failure(s)" in line for line in lines)


def test_count_stops_after_that_many_shown_failures():
    lines, summary = _run(Board().failures(9), accept=RecordFilter(errors=["OSError"]), count=2)
    assert _paths(lines) == ["/user/sensors/imu"] * 2
    assert summary["failures"] == 4  # the decoder stopped at the second OSError, failure #3


def test_the_exit_table_counts_root_failures_per_actor_and_per_error():
    lines, _ = _run(Board().failures(7))
    start = lines.index(next(line for line in lines if line.startswith("actor ")))
    assert lines[start:-1] == [
        "actor               root failures  restarts  resumes  stops  escalations",
        "/user/sensors/imu               3         0        0      0            0",
        "/user/net/mqtt                  2         0        0      0            0",
        "/user/sensors/baro              2         0        0      0            0",
        "error        root failures  restarts  resumes  stops  escalations",
        "OSError                  3         0        0      0            0",
        "SensorFault              2         0        0      0            0",
        "ValueError               2         0        0      0            0",
    ]
    assert lines[-1].startswith("summary: frames=7 failures=7 ")


def test_the_table_follows_the_filter():
    lines, _ = _run(Board().failures(7), accept=RecordFilter(actors=["/user/net"]))
    table = lines[lines.index(next(line for line in lines if line.startswith("actor "))) : -1]
    assert [row.split()[0] for row in table] == ["actor", "/user/net/mqtt", "error", "ValueError"]


def test_json_summary_carries_the_tables():
    lines, _ = _run(Board().failures(4), json_mode=True)
    summary = json.loads(lines[-1])
    assert summary["type"] == "summary"
    assert summary["actors"]["/user/sensors/imu"]["root failures"] == 2
    assert summary["errors"]["SensorFault"] == {
        "root failures": 1, "restarts": 0, "resumes": 0, "stops": 0, "escalations": 0,
    }  # fmt: skip


def test_a_rebooted_board_is_a_reboot_never_a_restart():
    board = Board()
    lines, summary = _run(board.failures(2), Board().failures(1))
    notice = [line for line in lines if line.startswith("!! ")]
    assert notice == ["!! board rebooted (its telemetry stream started again)"]
    assert (summary["reboots"], summary["restarts"]) == (1, 0)
    assert lines[-1].endswith(" restarts=0 reboots=1")
    assert "restart" not in " ".join(
        line for line in lines if not line.startswith(("actor ", "error ", "summary:"))
    )


def test_a_supervisor_restart_is_its_own_line_and_counts_as_the_actors_restart():
    lines, summary = _run(supervised_run(restarts=3))
    restarted = [line for line in lines if " restarted " in line]
    assert len(restarted) == 3
    assert all(
        line.split("  ")[2:5] == ["/user/sensors/imu", "restarted", "after Boom"] for line in restarted
    )
    table = lines[lines.index(next(line for line in lines if line.startswith("actor "))) : -1]
    assert table[1:3] == [
        "/user/sensors                  1         0        0      0            0",
        "/user/sensors/imu              0         3        0      0            0",
    ]
    assert (summary["restarts"], summary["reboots"], summary["failures"]) == (3, 0, 1)
    assert lines[-1].endswith(" restarts=3 reboots=0")
    assert not any("reboot" in line for line in lines[:-1])
