"""Fleet telemetry: the monitor's decoded records published to an MQTT broker (paho-mqtt).

    sink = MqttSink("mqtt://broker:1883/cellex", device_id="pico-7")
    sink.publish(record, host_time)      # JSON, QoS 1, topic cellex/pico-7/failure
    sink.close()                         # waits (bounded) for the broker to take what is queued

Topics are ``<topic>/<device-id>/<kind>``, kind one of PUBLISHED_KINDS; the payload is the
record as the monitor's ``--json`` prints it plus ``device_id`` and ``host_time``. Many boards,
one broker: one monitor per board, each with its own device id (default: from the port name);
subscribe to ``<topic>/+/failure`` for every board's failures, ``<topic>/#`` for everything.

Broker outages cost nothing up to `queue_limit` records: paho keeps unacknowledged QoS 1
messages and sends them again once it has reconnected (it retries every
0.2-2 s). A record offered while the queue is full is counted in `lost`; records still
unacknowledged when close() gives up are counted in `unsent`. So
``offered == acked + lost + unsent``, and the monitor prints all four. A source that can wait
(a replay: `wait_for_room`) is held back while the queue is full, however long the broker
takes (Ctrl-C ends the wait; what is still queued then is counted unsent), so a replay loses
nothing; a live port is never held back (the board's bytes would pile up in the serial
driver instead, and be lost there uncounted).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.parse
from typing import TextIO

import paho.mqtt.client as mqtt

from cellex_tools.wire_decoder import record_to_dict

PUBLISHED_KINDS = ("failure", "supervision", "boot", "drop_report")
DEFAULT_QUEUE_LIMIT = 10000
DEFAULT_PORT = 1883
QOS = 1
_IN_FLIGHT = 100  # unacknowledged messages on the wire at once (paho's default of 20 halves the rate)


class MqttUrlError(ValueError):
    """The --mqtt URL is not mqtt://host[:port]/topic (the message says what is wrong)."""


def parse_url(url: str) -> tuple[str, int, str]:
    """(host, port, topic) of ``mqtt://host[:port]/topic``; the topic may have several levels."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "mqtt":
        raise MqttUrlError("%r: expected mqtt://host:port/topic (only plain mqtt:// is supported)" % url)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise MqttUrlError("%r: the port is not a number from 1 to 65535" % url) from None
    topic = parts.path.strip("/")
    if not parts.hostname or not topic:
        raise MqttUrlError("%r: needs a host and a topic, e.g. mqtt://localhost:1883/cellex" % url)
    if "+" in topic or "#" in topic:
        raise MqttUrlError("%r: a topic to publish to has no wildcards (+, #)" % url)
    return parts.hostname, port, topic


def device_id_for(source: str) -> str:
    """A topic-safe device id from a port or capture name: /dev/ttyACM0 -> ttyACM0,
    socket://10.0.0.5:7000 -> 10.0.0.5-7000, /dev/serial/by-id/usb-...-if00 -> usb-...-if00."""
    if "://" in source:
        name = source.split("://", 1)[1].rstrip("/").replace(":", "-")
    else:
        name = os.path.basename(source.rstrip("/")) or source
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "board"


class MqttSink:
    """Publishes records to one broker under one device id; see the module doc for the counts."""

    def __init__(
        self,
        url: str,
        device_id: str,
        *,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        status: TextIO | None = None,
        wait_for_room: bool = False,
        flush_timeout: float = 5.0,
    ):
        self.host, self.port, self.topic = parse_url(url)
        self.device_id = device_id
        self.offered = 0
        self.lost = 0  # offered while the queue was full
        self.max_queued = 0  # the deepest the queue of unacknowledged records went
        self._acked = 0
        self._queue_limit = queue_limit
        self._wait_for_room = wait_for_room
        self._flush_timeout = flush_timeout
        self._room = threading.Condition()  # notified on each acknowledgement
        self._status = status
        self._connected = threading.Event()
        self._closing = False
        # A process-unique client id: two monitors of one board must not disconnect each other.
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="cellex-%s-%d" % (device_id, os.getpid())
        )
        self.client.max_queued_messages_set(queue_limit)
        self.client.max_inflight_messages_set(_IN_FLIGHT)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=2)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_connect_fail = self._on_connect_fail
        self._unreachable_said = False
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    @property
    def acked(self) -> int:
        """Records the broker acknowledged (PUBACK)."""
        return self._acked

    @property
    def queued(self) -> int:
        """Records offered and not yet acknowledged (nor lost)."""
        return self.offered - self._acked - self.lost

    def publish(self, rec, host_time: float) -> None:
        """Queue `rec` for the broker if its kind is published; never blocks, never raises."""
        if rec.kind not in PUBLISHED_KINDS:
            return
        payload = dict(record_to_dict(rec), device_id=self.device_id, host_time=host_time)
        topic = "%s/%s/%s" % (self.topic, self.device_id, rec.kind)
        if self._wait_for_room:
            with self._room:
                self._room.wait_for(lambda: self.queued < self._queue_limit)
        self.offered += 1
        info = self.client.publish(topic, json.dumps(payload, ensure_ascii=False), qos=QOS)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            self.lost += 1
        self.max_queued = max(self.max_queued, self.queued)

    def wait_connected(self, timeout: float) -> bool:
        """True once connected to the broker (tests and start-up messages use it)."""
        return self._connected.wait(timeout)

    def close(self) -> dict[str, int]:
        """Wait up to `flush_timeout` s for the queue to drain, disconnect, and return the counts."""
        deadline = time.monotonic() + self._flush_timeout
        try:
            while self.queued and time.monotonic() < deadline:
                time.sleep(0.02)
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop waiting; what is queued is counted unsent
        self._closing = True
        self.client.disconnect()
        self.client.loop_stop()
        return self.stats()

    def stats(self) -> dict[str, int]:
        """offered == acked + lost + unsent; max_queued: the deepest the buffer went."""
        return {
            "offered": self.offered,
            "acked": self._acked,
            "lost": self.lost,
            "unsent": self.queued,
            "max_queued": self.max_queued,
        }

    def _say(self, text: str) -> None:
        if self._status is not None:
            self._status.write("monitor: mqtt: %s\n" % text)
            self._status.flush()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self._say("the broker at %s:%d refused us: %s" % (self.host, self.port, reason_code))
            return
        self._connected.set()
        self._say("connected to %s:%d, publishing to %s/%s/<kind>" % (
            self.host, self.port, self.topic, self.device_id))  # fmt: skip

    def _on_connect_fail(self, client, userdata):
        if not self._unreachable_said:  # once: paho retries every 0.2-2 s
            self._unreachable_said = True
            self._say(
                "cannot reach the broker at %s:%d yet; keeping records and retrying" % (self.host, self.port)
            )

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        if self._connected.is_set() and not self._closing:
            self._connected.clear()
            self._say("lost the broker (%s); keeping up to the queue limit and sending again" % reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._room:
            self._acked += 1
            self._room.notify()
