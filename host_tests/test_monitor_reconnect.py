"""The monitor and a port that goes away: a USB adapter unplugged and plugged in again.

A pty stands in for the adapter: closing its master makes /dev/pts/N vanish, as unplugging
makes /dev/ttyUSB0 vanish. The monitor opens a symlink to it (as /dev/serial/by-id/... is),
and "plugging in again" points the symlink at a new pty.
"""

import io
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

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent


class Adapter:
    """A serial adapter at a stable path (`link`) that can be unplugged and plugged in."""

    def __init__(self, link: Path):
        self.link = link
        self.master = self.slave = None
        self.plug()

    def plug(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.link.symlink_to(os.ttyname(self.slave))

    def unplug(self):
        self.link.unlink()
        os.close(self.master)
        os.close(self.slave)

    def send(self, data):
        os.write(self.master, data)


class Said(io.StringIO):
    """A text stream tests can wait on for a phrase."""

    def __init__(self):
        super().__init__()
        self.changed = threading.Condition()

    def write(self, text):
        with self.changed:
            n = super().write(text)
            self.changed.notify_all()
        return n

    def wait_for(self, phrase, count=1, timeout=30.0):
        with self.changed:
            ok = self.changed.wait_for(lambda: self.getvalue().count(phrase) >= count, timeout)
        assert ok, "never said %r; said: %r" % (phrase, self.getvalue())


def test_a_port_that_vanishes_and_comes_back_is_reopened_and_read_on(tmp_path):
    adapter = Adapter(tmp_path / "ttyCELLEX")
    board = Board()
    out, status = Said(), Said()
    result = {}

    def run():
        result["summary"] = mon.monitor(
            str(adapter.link), out=out, status=status, reconnect_timeout=20, count=10
        )  # fmt: skip

    watcher = threading.Thread(target=run)
    watcher.start()
    status.wait_for("reading ")
    adapter.send(board.failures(5))
    out.wait_for("fault ", 5)
    adapter.unplug()
    status.wait_for("lost %s" % adapter.link)
    time.sleep(0.5)  # away for a while: several attempts to reopen fail
    adapter.plug()
    status.wait_for("%s is back" % adapter.link)
    adapter.send(board.failures(5))  # the board ran on; its sequence numbers too
    watcher.join(30)
    adapter.unplug()
    assert not watcher.is_alive()

    shown = [int(line.split("#")[-1]) for line in out.getvalue().splitlines() if "fault " in line]
    assert shown == list(range(10))
    assert (result["summary"]["gaps"], result["summary"]["failures"]) == (0, 10)
    assert "waiting up to 20 s for it to come back" in status.getvalue()


def _monitor_process(adapter, reconnect_timeout):
    # `python -m cellex_tools.monitor` on the adapter's stable path, as a user runs it; output piped as text.
    cmd = [sys.executable, "-m", "cellex_tools.monitor", "--port", str(adapter.link)]
    cmd += ["--reconnect-timeout", reconnect_timeout]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_port_that_never_comes_back_ends_the_monitor_with_status_3(tmp_path):
    adapter = Adapter(tmp_path / "ttyCELLEX")
    proc = _monitor_process(adapter, "0.5")
    try:
        assert proc.stderr.readline().startswith("monitor: reading %s at 115200 baud" % adapter.link)
        adapter.send(Board().failures(2))
        time.sleep(0.5)
        adapter.unplug()
        started = time.monotonic()
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == mon.EXIT_LOST
    assert time.monotonic() - started < 5
    assert stderr.splitlines()[-1] == "monitor: %s did not come back within 0.5 s" % adapter.link
    assert stdout.splitlines()[-1].startswith("summary: frames=2 failures=2 ")


def test_with_reconnect_timeout_0_a_lost_port_ends_the_watch_normally(tmp_path):
    adapter = Adapter(tmp_path / "ttyCELLEX")
    proc = _monitor_process(adapter, "0")
    try:
        proc.stderr.readline()
        adapter.unplug()
        stdout, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == mon.EXIT_OK
    assert stdout.splitlines()[0].startswith("!! port closed (")
