"""The telemetry monitor (cellex_tools/monitor.py): end to end over a pty, pyserial URLs, errors, output."""

import fcntl
import io
import json
import os
import socket
import subprocess
import sys
import termios
import threading
import tty
from pathlib import Path

import pytest
import serial

from cellex_tools import monitor as mon
from cellex_tools.wire_decoder import decode_frame

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
MICROPYTHON = os.environ.get("MICROPYTHON") or str(ROOT / ".venv" / "bin" / "micropython")
VECTORS = json.loads((ROOT / "docs" / "wire-vectors.json").read_text(encoding="utf-8"))["vectors"]
FRAMES = {v["name"]: bytes.fromhex(v["hex"]) for v in VECTORS}

# Runs inside the MicroPython unix port: UartFailureTelemetry writes to stdout (the pty's
# board end) through a writer that is sometimes full and sometimes takes half a frame.
_BOARD = r"""
import sys, json
from cellex.snapshot import FailureSnapshot
from cellex.telemetry_uart import UartFailureTelemetry

N = int(sys.argv[1])
out = sys.stdout.buffer

class FlakyUart:
    def __init__(self):
        self.calls = 0
        self.torn = 0
        self.healthy = False
    def write(self, buf, n=-1):
        if n < 0:
            n = len(buf)
        self.calls += 1
        if self.healthy:
            return out.write(buf, n)
        if self.calls % 7 == 3:
            return None          # transmit buffer full: nothing taken
        if self.calls % 11 == 5 and n > 8:
            self.torn += 1
            return out.write(buf, 5)   # a torn frame reaches the wire
        return out.write(buf, n)
    def flush(self):
        pass

uart = FlakyUart()
t = UartFailureTelemetry(uart)
snap = FailureSnapshot()
paths = (("user", "sensors", "imu"), ("user", "net", "mqtt", "client"), ("user",))
for i in range(N):
    snap.clear()
    snap.sequence = i
    snap.timestamp_ms = 1000 + 10 * i
    snap.actor_id = i % 5
    snap.path = paths[i % 3]
    snap.error_type = "OSError" if i % 2 else "SensorFault"
    snap.reason = "read timeout %d" % i
    snap.set_description(snap.reason)
    snap.add_tag("i", str(i))
    snap.stage = i % 4
    t.on_failure(snap)
flushed = t.flush()
uart.healthy = True
beat = t.heartbeat()
report = {"beat": beat, "failures": t.failures, "sent": t.frames_sent, "dropped": t.frames_dropped,
    "reported": t.drops_reported, "pending": t.drops_pending, "torn": uart.torn, "flushed": flushed}
sys.stderr.write(json.dumps(report) + "\n")
"""


def _pending_input(fd: int) -> int:
    return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"), sys.byteorder)


def _signal_when_opened(monkeypatch):
    """An Event set once the monitor has opened its port (pyserial drops what came before)."""
    opened = threading.Event()
    real_open = mon.open_port

    def open_and_signal(port, baud=115200):
        p = real_open(port, baud)
        opened.set()
        return p

    monkeypatch.setattr(mon, "open_port", open_and_signal)
    return opened


def test_every_failure_sent_from_micropython_over_a_pty_is_printed_or_counted_as_dropped(monkeypatch):
    n = 300
    master, slave = os.openpty()
    tty.setraw(slave)
    opened = _signal_when_opened(monkeypatch)
    out = io.StringIO()
    result = {}

    def run():
        result["summary"] = mon.monitor(os.ttyname(slave), 115200, json_mode=True, out=out)

    reader = threading.Thread(target=run)
    reader.start()
    assert opened.wait(30), "the monitor did not open the pty"
    env = dict(os.environ, MICROPYPATH=str(ROOT / "firmware"))
    board = subprocess.run(
        [MICROPYTHON, "-c", _BOARD, str(n)], stdout=master, stderr=subprocess.PIPE, env=env, timeout=120
    )
    assert board.returncode == 0, board.stderr.decode()
    sent = json.loads(board.stderr.decode().strip().splitlines()[-1])
    # Wait until the monitor has read everything, then hang up: it sees the end of the stream.
    while _pending_input(slave):
        threading.Event().wait(0.01)
    os.close(master)
    reader.join(30)
    os.close(slave)
    assert not reader.is_alive()

    summary = result["summary"]
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    printed = [d for d in lines if d["type"] == "failure"]
    assert sent["failures"] == n and sent["pending"] == 0 and sent["flushed"] is True
    assert sent["dropped"] > 0 and sent["torn"] > 0  # the run really exercised both paths
    assert len(printed) + summary["dropped"] == n
    assert len(printed) == summary["failures"] == sent["failures"] - sent["dropped"]
    assert summary["dropped"] == sent["reported"] == sent["dropped"]
    assert sorted(d["sequence"] for d in printed) == [d["sequence"] for d in printed]
    assert (summary["gaps"], summary["lost"]) == (0, 0)  # dropped frames use no sequence number
    assert summary["crc_errors"] + summary["malformed"] == sent["torn"]
    beat = [d for d in lines if d["type"] == "heartbeat"]
    assert sent["beat"] is True and len(beat) == 1
    assert (beat[0]["failures"], beat[0]["frames_dropped"]) == (n, sent["dropped"])
    assert lines[-1]["type"] == "summary"


def _serve(frames: bytes, monkeypatch):
    """A one-shot TCP server that sends `frames` and hangs up; returns its socket:// URL.

    It sends only once the monitor has opened the port: pyserial discards what
    arrived before (reset_input_buffer on open).
    """
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    opened = _signal_when_opened(monkeypatch)

    def serve():
        conn, _ = srv.accept()
        opened.wait(30)
        conn.sendall(frames)
        conn.close()
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return "socket://127.0.0.1:%d" % srv.getsockname()[1]


def test_the_monitor_reads_a_socket_url_and_prints_one_line_per_failure(monkeypatch):
    stream = FRAMES["failure_typical"] + FRAMES["drop_report"] + FRAMES["failure_non_ascii"]
    out = io.StringIO()
    summary = mon.monitor(_serve(stream, monkeypatch), out=out)
    lines = out.getvalue().splitlines()
    assert "/user/sensors/imu" in lines[0] and "OSError: read timeout" in lines[0]
    assert "stage=2" in lines[0] and "bus=i2c0" in lines[0] and "addr=0x68" in lines[0]
    assert "dropped 3 failure(s)" in lines[1]
    assert "/user/capteur_température" in lines[2] and "Zürich" in lines[2]
    assert lines[-1].startswith("summary: frames=3 failures=2 ")
    assert (summary["failures"], summary["dropped"]) == (2, 3)


def test_count_stops_the_monitor_after_that_many_failures(monkeypatch):
    stream = FRAMES["failure_typical"] * 3
    summary = mon.monitor(_serve(stream, monkeypatch), count=2, out=io.StringIO())
    assert summary["failures"] == 2


def test_duration_stops_a_monitor_on_a_silent_port():
    master, slave = os.openpty()
    try:
        summary = mon.monitor(os.ttyname(slave), duration=0.05, out=io.StringIO())
    finally:
        os.close(master)
        os.close(slave)
    assert summary["frames"] == 0


def test_json_lines_carry_the_record_fields(monkeypatch):
    out = io.StringIO()
    mon.monitor(_serve(FRAMES["failure_typical"], monkeypatch), json_mode=True, out=out)
    first = json.loads(out.getvalue().splitlines()[0])
    assert first["type"] == "failure"
    assert first["path"] == ["user", "sensors", "imu"]
    assert first["tags"] == [["bus", "i2c0"], ["addr", "0x68"]]


def test_text_is_coloured_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    plain, tty_out = io.StringIO(), Tty()
    record = decode_frame(FRAMES["failure_typical"][:-1])
    mon.Printer(plain).record(record)
    mon.Printer(tty_out).record(record)
    assert "\x1b[" not in plain.getvalue()
    assert "\x1b[" in tty_out.getvalue()


def test_a_missing_port_is_a_one_line_error_and_exit_status_1():
    proc = subprocess.run(
        [sys.executable, "-m", "cellex_tools.monitor", "--port", "/dev/cellex-no-such-port"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr == "monitor: no such port: /dev/cellex-no-such-port\n"


def test_a_busy_port_is_reported_as_busy(capsys):
    master, slave = os.openpty()
    holder = serial.Serial(os.ttyname(slave), exclusive=True)
    try:
        status = mon.main(["--port", os.ttyname(slave)])
    finally:
        holder.close()
        os.close(master)
        os.close(slave)
    assert status == 1
    assert "is busy" in capsys.readouterr().err


@pytest.mark.parametrize("baud", ["abc", "0", "-9600"])
def test_a_bad_baud_rate_is_a_usage_error(baud, capsys):
    with pytest.raises(SystemExit) as exit_info:
        mon.main(["--port", "/dev/null", "--baud", baud])
    assert exit_info.value.code == 2
    assert "--baud" in capsys.readouterr().err


def test_open_port_rejects_a_baud_rate_pyserial_cannot_use():
    with pytest.raises(mon.MonitorError, match="bad baud rate"):
        mon.open_port("loop://", -1)


def test_make_monitor_without_port_says_how_to_call_it():
    cmd = ["make", "-s", "monitor", "PORT="]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "PORT is not set" in proc.stderr


def test_the_monitor_says_on_stderr_which_port_it_reads_at_which_baud(capsys):
    master, slave = os.openpty()
    port = os.ttyname(slave)
    try:
        status = mon.main(["--port", port, "--baud", "57600", "--duration", "0.05"])
    finally:
        os.close(master)
        os.close(slave)
    captured = capsys.readouterr()
    assert status == mon.EXIT_OK
    assert captured.err == "monitor: reading %s at 57600 baud (Ctrl-C stops)\n" % port
    assert captured.out.startswith("summary: frames=0 ")


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        ([], "give one source: --port PORT or --replay FILE"),
        (["--port", "/dev/null", "--replay", "x.pcap"], "give one source: --port PORT or --replay FILE"),
        (
            ["--replay", "x.pcap", "--record", "y.pcap"],
            "--record saves a port's bytes; a replay is already a capture",
        ),
        (["--port", "/dev/null", "--fast"], "--fast is for --replay"),
        (["--port", "/dev/null", "--device-id", "pico-1"], "--device-id names the board for --mqtt"),
    ],
)
def test_options_that_do_not_go_together_are_a_usage_error(argv, problem, capsys):
    assert mon.main(argv) == mon.EXIT_USAGE
    assert capsys.readouterr().err == "monitor: %s (see --help)\n" % problem


def test_sigterm_ends_the_monitor_with_its_summary_like_ctrl_c():
    master, slave = os.openpty()
    cmd = [sys.executable, "-m", "cellex_tools.monitor", "--port", os.ttyname(slave)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stderr.readline()  # "monitor: reading ...": it has the port
        os.write(master, FRAMES["failure_typical"])
        assert "/user/sensors/imu" in proc.stdout.readline()
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
        os.close(master)
        os.close(slave)
    assert proc.returncode == mon.EXIT_OK
    assert out.splitlines()[-1].startswith("summary: frames=1 failures=1 ")
