"""Fleet telemetry: the monitor publishes to a real Mosquitto broker, read back by a real paho client.

Mosquitto runs on a free loopback port with persistence on, so a broker restart keeps the
subscriber's session (its QoS 1 subscription and the messages queued for it): what the test
sees is what the broker took, through the restart.
"""

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from telemetry_frames import Board, supervised_run

from cellex_tools import monitor as mon
from cellex_tools.capture import CaptureWriter
from cellex_tools.mqtt_sink import MqttSink, MqttUrlError, device_id_for, parse_url

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
TOPIC = "fleet-test"
BOOT = bytes.fromhex(json.loads((ROOT / "docs" / "wire-vectors.json").read_text())["boot_vectors"][1]["hex"])


def _mosquitto():
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if not found:
        pytest.fail(
            "mosquitto (the MQTT broker) is not installed: `make broker` installs it "
            "(as root on Debian: apt-get install mosquitto); make test does it first"
        )
    return found


class Broker:
    """A Mosquitto on 127.0.0.1:<free port> with its own config and persistence folder."""

    def __init__(self, folder: Path):
        self.exe = _mosquitto()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            "listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
            "persistence_location %s/\nuser root\nlog_dest file %s\n"
            % (self.port, folder, folder / "mosquitto.log")
        )  # fmt: skip
        self.proc = None
        self.url = "mqtt://127.0.0.1:%d/%s" % (self.port, TOPIC)

    def start(self):
        self.proc = subprocess.Popen([self.exe, "-c", str(self.config)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read().decode()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mosquitto did not listen on port %d" % self.port)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)  # mosquitto saves its persistence file on SIGTERM
        self.proc.wait(10)


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path)
    b.start()
    yield b
    if b.proc.poll() is None:
        b.stop()


class Subscriber:
    """A paho client with a persistent session on <topic>/#, keeping every message it gets."""

    def __init__(self, broker: Broker):
        self.messages = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="fleet-test-subscriber", clean_session=False
        )
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=1)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(TOPIC + "/#", qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.set()
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, json.loads(m.payload)))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def wait_for(self, n, timeout=30.0):
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # and nothing more (a duplicate) right after
        return self.messages

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(broker):
    s = Subscriber(broker)
    yield s
    s.close()


def _capture(tmp_path, data, name="board.pcap"):
    path = tmp_path / name
    with open(path, "wb") as f:
        CaptureWriter(f).write(1000.0, data)
    return path


def _sequences(messages, device=None):
    return [m["sequence"] for t, m in messages if m["type"] == "failure" and device in (None, m["device_id"])]


def _replay_to(broker, capture, *options):
    # The monitor command that replays `capture` as fast as it can, publishing to the broker.
    cmd = [sys.executable, "-m", "cellex_tools.monitor", "--replay", str(capture), "--fast"]
    return cmd + ["--mqtt", broker.url, *options]


def test_every_failure_of_a_replay_reaches_the_broker_exactly_once(tmp_path, broker, subscriber):
    n = 500
    capture = _capture(tmp_path, Board().failures(n))
    cmd = _replay_to(broker, capture)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    messages = subscriber.wait_for(n)
    assert sorted(_sequences(messages)) == list(range(n))
    topic, first = next((t, m) for t, m in messages if m["sequence"] == 0)
    assert topic == "%s/board/failure" % TOPIC
    assert (first["device_id"], first["path"], first["error_type"]) == (
        "board",
        ["user", "sensors", "imu"],
        "OSError",
    )
    assert (
        "mqtt: %d offered, %d acknowledged by the broker, 0 lost (queue full), 0 unsent at exit" % (n, n)
        in proc.stdout
    )


def test_a_fast_replay_waits_for_the_broker_rather_than_lose_records(tmp_path, broker, subscriber):
    n = 1000
    capture = _capture(tmp_path, Board().failures(n))
    cmd = _replay_to(broker, capture, "--mqtt-queue", "10")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "mqtt: %d offered, %d acknowledged by the broker, 0 lost (queue full)" % (n, n) in proc.stdout
    assert sorted(_sequences(subscriber.wait_for(n))) == list(range(n))


def test_boot_and_supervision_records_are_published_under_their_own_kind(tmp_path, broker, subscriber):
    capture = _capture(tmp_path, BOOT + supervised_run(restarts=2))
    cmd = _replay_to(broker, capture)
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=120).returncode == 0
    messages = subscriber.wait_for(4)
    kinds = sorted(t.rsplit("/", 1)[1] for t, _ in messages)
    assert kinds == ["boot", "failure", "supervision", "supervision"]
    decisions = [m["decision"] for t, m in messages if t.endswith("/supervision")]
    assert decisions == ["restarted", "restarted"]
    boot = next(m for t, m in messages if t.endswith("/boot"))
    assert (boot["cause"], boot["device_id"]) == ("watchdog", "board")


def test_two_boards_publish_under_their_own_device_ids(tmp_path, broker, subscriber):
    runs = []
    for device, count in (("pico-1", 30), ("pico-2", 20)):
        capture = _capture(tmp_path, Board().failures(count), device + ".pcap")
        cmd = _replay_to(broker, capture, "--device-id", device)
        runs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    assert [p.wait(120) for p in runs] == [0, 0]
    messages = subscriber.wait_for(50)
    assert sorted(_sequences(messages, "pico-1")) == list(range(30))
    assert sorted(_sequences(messages, "pico-2")) == list(range(20))
    assert {t for t, _ in messages} == {TOPIC + "/pico-1/failure", TOPIC + "/pico-2/failure"}


class LiveMonitor:
    """The monitor on a pty (a board's telemetry UART), publishing to the broker, in a thread."""

    def __init__(self, broker: Broker, **sink_options):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave = slave
        self.status = io.StringIO()
        self.out = io.StringIO()
        self.sink = MqttSink(broker.url, "bench-1", status=self.status, **sink_options)
        self.result = {}
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        deadline = time.monotonic() + 30
        while "reading " not in self.status.getvalue():
            assert time.monotonic() < deadline, self.status.getvalue()
            time.sleep(0.01)

    def _run(self):
        self.result["summary"] = mon.monitor(
            os.ttyname(self.slave), out=self.out, status=self.status, sink=self.sink
        )  # fmt: skip

    def send(self, data):
        os.write(self.master, data)

    def until_decoded(self, failures):
        deadline = time.monotonic() + 30
        while self.out.getvalue().count("fault ") < failures:
            assert time.monotonic() < deadline
            time.sleep(0.01)

    def finish(self, failures):
        """Once `failures` are decoded, hang up: the monitor ends, waiting (bounded) for the
        broker to take what is queued. Returns the monitor's summary."""
        self.until_decoded(failures)
        os.close(self.master)
        self.thread.join(60)
        os.close(self.slave)
        assert not self.thread.is_alive()
        return self.result["summary"]


def test_a_broker_restart_mid_stream_loses_nothing(broker, subscriber):
    board = Board()
    live = LiveMonitor(broker)
    assert live.sink.wait_connected(10)
    live.send(board.failures(100))
    assert len(subscriber.wait_for(100)) == 100

    broker.stop()
    live.send(board.failures(200))  # the broker is away: the monitor keeps these
    live.until_decoded(300)
    assert live.sink.queued == 200
    broker.start()
    live.send(board.failures(100))
    summary = live.finish(400)

    assert sorted(_sequences(subscriber.wait_for(400))) == list(range(400))
    mqtt_counts = summary["mqtt"]
    assert (mqtt_counts["offered"], mqtt_counts["acked"], mqtt_counts["lost"], mqtt_counts["unsent"]) == (
        400,
        400,
        0,
        0,
    )
    assert 200 <= mqtt_counts["max_queued"] <= 300  # the last 100 may come before it reconnected
    assert "lost the broker" in live.status.getvalue()


def test_records_beyond_the_queue_limit_are_counted_lost_and_the_rest_delivered(broker, subscriber):
    board = Board()
    live = LiveMonitor(broker, queue_limit=50)
    assert live.sink.wait_connected(10)
    broker.stop()
    live.send(board.failures(80))
    live.until_decoded(80)
    broker.start()
    summary = live.finish(80)

    assert sorted(_sequences(subscriber.wait_for(50))) == list(range(50))
    assert summary["mqtt"] == {"offered": 80, "acked": 50, "lost": 30, "unsent": 0, "max_queued": 50}
    assert "mqtt: 80 offered, 50 acknowledged by the broker, 30 lost (queue full)" in live.out.getvalue()


def test_records_the_broker_never_took_are_counted_unsent_at_exit(tmp_path, broker):
    broker.stop()
    sink = MqttSink(broker.url, "bench-2", flush_timeout=0.5)
    out = io.StringIO()
    with open(_capture(tmp_path, Board().failures(5)), "rb") as f:
        summary = mon.monitor(replay=f, fast=True, out=out, sink=sink)
    assert summary["mqtt"]["unsent"] == 5 and summary["mqtt"]["acked"] == 0


def test_a_bad_mqtt_url_is_a_usage_error(capsys):
    assert mon.main(["--replay", "-", "--mqtt", "http://broker/topic"]) == mon.EXIT_USAGE
    assert "expected mqtt://host:port/topic" in capsys.readouterr().err


@pytest.mark.parametrize(
    "url", ["mqtt://broker:1883", "mqtt://:1883/topic", "mqtt://broker:port/topic", "mqtt://b/a/+/c"]
)
def test_mqtt_urls_without_host_topic_or_a_valid_port_are_refused(url):
    with pytest.raises(MqttUrlError):
        parse_url(url)


def test_an_mqtt_url_gives_host_port_and_a_topic_of_several_levels():
    assert parse_url("mqtt://10.0.0.2:1884/site/lab/cellex") == ("10.0.0.2", 1884, "site/lab/cellex")
    assert parse_url("mqtt://broker/cellex") == ("broker", 1883, "cellex")


@pytest.mark.parametrize(
    ("port", "device"),
    [
        ("/dev/ttyACM0", "ttyACM0"),
        ("/dev/serial/by-id/usb-Raspberry_Pi_Pico_E6614-if00", "usb-Raspberry_Pi_Pico_E6614-if00"),
        ("socket://10.0.0.5:7000", "10.0.0.5-7000"),
        ("COM3", "COM3"),
    ],
)
def test_the_device_id_comes_from_the_port_name(port, device):
    assert device_id_for(port) == device
