"""The host text back-end writes one readable line per failure."""

import io
import logging

import pytest

from cellex.actor import Actor
from cellex.config import ActorSystemConfig
from cellex.supervision import ESCALATE, SupervisorStrategy
from cellex.system import ActorSystem
from cellex_tools.tracing_telemetry import TracingFailureTelemetry

pytestmark = pytest.mark.host_only

LINE = "#0 /user/sensors/imu SensorTimeout: read timeout stage=2 component=imu bus=i2c0"


class SensorTimeout(Exception):
    pass


def _fail_once(telemetry):
    esc = SupervisorStrategy(ESCALATE)
    cfg = ActorSystemConfig(max_actors=4, guardian_strategy=esc).with_failure_telemetry(telemetry)
    system = ActorSystem(cfg)

    class Imu(Actor):
        def receive(self, msg):
            raise SensorTimeout("read timeout")

    sensors = system.spawn(Actor(), "sensors", supervisor=esc)
    imu = system.spawn(Imu(), "imu", parent=sensors, component="imu", tags=(("bus", "i2c0"),))
    system.start()
    imu.tell("read")
    system.run_until_idle()


def test_the_text_back_end_writes_one_line_per_failure_to_a_stream():
    out = io.StringIO()
    _fail_once(TracingFailureTelemetry(stream=out))
    assert out.getvalue() == LINE + "\n"


def test_the_text_back_end_logs_at_error_level_by_default(caplog):
    with caplog.at_level(logging.ERROR, logger="cellex.failure"):
        _fail_once(TracingFailureTelemetry())
    assert [r.getMessage() for r in caplog.records] == [LINE]
