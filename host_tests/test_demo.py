"""The demo end to end: virtual board, mpremote deploy, the app, the monitor (real processes)."""

import io
import subprocess
from pathlib import Path

import pytest

from cellex_tools.demo import run_demo
from cellex_tools.wire_decoder import Supervision

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo():
    subprocess.run(["make", "-s", "mpy-VIRTUAL"], cwd=ROOT, check=True, capture_output=True, timeout=300)
    out = io.StringIO()
    result = run_demo(out=out, timeout=60)
    return result, out.getvalue()


def test_every_failure_the_board_produced_is_decoded_or_reported_dropped(demo):
    result, _ = demo
    assert result.produced == 5
    assert result.accounted == result.produced
    assert result.monitor["crc_errors"] == 0
    assert result.monitor["lost"] == 0


def test_the_demo_injects_every_kind_of_failure(demo):
    result, _ = demo
    assert result.board["restarts"] > 0
    assert result.board["resumes"] > 0
    assert result.board["intensity_exceeded"] == 1
    assert result.board["dead_letters"] > 0


def test_the_monitor_shows_each_root_failure_with_its_path_stage_and_tags(demo):
    result, _ = demo
    seen = [("/" + "/".join(r.path), r.error_type, r.stage, r.tags) for r in result.failures]
    assert seen == [
        ("/user/job0", "RuntimeError", 1, (("job", "0"),)),
        ("/user/job1", "RuntimeError", 1, (("job", "1"),)),
        ("/user/job2", "RuntimeError", 1, (("job", "2"),)),
        ("/user/filter", "SensorFault", 1, (("sample", "40"),)),
        ("/user/sensors/baro", "SensorFault", 2, (("bus", "i2c0"),)),
    ]


def test_the_demo_prints_live_failures_and_a_summary(demo):
    _, text = demo
    assert "/user/sensors/baro  SensorFault: pressure out of range  stage=2" in text
    # 2 boot frames, 5 failures, 10 supervision frames (8 restarts, 2 resumes), 1 heartbeat
    assert "summary: frames=18 failures=5" in text
    assert "restarts=8 reboots=2" in text  # actors restarted; the board rebooted (boot frames)


def test_restarts_and_resumes_below_the_root_are_on_the_wire_as_their_own_lines(demo):
    result, text = demo
    decided = [(r.path_text, r.decision) for r in result.records if isinstance(r, Supervision)]
    assert decided.count(("/user/sensors/imu", "restarted")) == 8
    assert decided.count(("/user/logger", "resumed")) == 2
    assert "/user/sensors/imu  restarted  after OSError  stage=0" in text


def test_the_last_scene_hangs_an_actor_and_the_watchdog_reboot_names_it(demo):
    result, text = demo
    reboot = result.reboot
    assert reboot is not None
    assert (reboot.cause, reboot.running_path, reboot.record_valid) == ("watchdog", "/user/calib", True)
    # the last root failure before the hang survived the reset too
    assert (reboot.has_failure, reboot.failure_path, reboot.failure_stage) == (True, "/user/sensors/baro", 2)
    assert (result.monitor["boots"], result.monitor["stream_starts"]) == (2, 0)
    assert "rebooted by the watchdog while /user/calib was running" in text
