"""Boot frames on the host: golden vectors through the decoder, the monitor's line and reboot count,
and a virtual board whose record survives a reset (the process restarted)."""

import json
import time
from pathlib import Path

import pytest
import serial

from cellex_tools.monitor import Printer, format_boot
from cellex_tools.virtual_board import ROM_DIR, VirtualBoard
from cellex_tools.wire_decoder import Boot, StreamDecoder, record_to_dict

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
DOC = json.loads((ROOT / "docs" / "wire-vectors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("v", DOC["boot_vectors"], ids=lambda v: v["name"])
def test_decoder_reads_the_golden_boot_vectors(v):
    dec = StreamDecoder()
    recs = dec.feed(bytes.fromhex(v["hex"]))
    assert [record_to_dict(r) for r in recs] == [v["decoded"]]
    assert (dec.frames, dec.boots, dec.malformed) == (1, 1, 0)


def test_a_boot_frame_is_frame_type_0_kind_1_which_a_v1_decoder_without_it_skips_as_malformed():
    # v1 rule 4 (docs/wire-format.md §9): an unknown frame type is malformed, decoding goes on
    from cobs import cobs

    for v in DOC["boot_vectors"]:
        body = cobs.decode(bytes.fromhex(v["hex"])[:-1])
        assert ((body[0] >> 2) & 3, body[0] >> 5, body[0] & 0x10, body[7]) == (0, 1, 0x10, 1)
    # an unknown kind is malformed here, as a boot frame is to a decoder that predates it
    frame = bytearray(cobs.decode(bytes.fromhex(DOC["boot_vectors"][0]["hex"])[:-1]))
    frame[7] = 9
    import crc

    c = crc.Calculator(crc.Crc16.IBM_3740).checksum(bytes(frame[:-2]))
    frame[-2:] = c.to_bytes(2, "little")
    dec = StreamDecoder()
    good = bytes.fromhex(DOC["boot_vectors"][1]["hex"])
    recs = dec.feed(cobs.encode(bytes(frame)) + b"\x00" + good)
    assert len(recs) == 1 and dec.malformed == 1 and "kind 9" in dec.last_error


def test_the_monitor_says_why_the_board_rebooted_and_counts_reboots_apart_from_restarts():
    v = next(v for v in DOC["boot_vectors"] if v["decoded"]["has_failure"])
    dec = StreamDecoder()
    (rec,) = dec.feed(bytes.fromhex(v["hex"]))
    assert isinstance(rec, Boot)
    line = format_boot(rec)
    assert "rebooted by the watchdog while /user/sensors/imu was running" in line
    assert "last root failure before that: /user/net/mqtt OSError" in line
    cold = next(v for v in DOC["boot_vectors"] if not v["decoded"]["record_valid"])
    # a boot frame then the telemetry stream's own start frame: one reboot, no stream restart
    dec.feed(bytes.fromhex(cold["hex"]))
    assert dec.stats()["boots"] == 2 and dec.stream_starts == 0

    class Out:
        text = ""

        def write(self, s):
            Out.text += s

        def flush(self):
            pass

    Printer(Out()).summary(dec.stats())
    assert "reboots=2" in Out.text and "restarts=0" in Out.text


_MAIN = """\
import board_config
from actors_boot import FAIL, Faulty
from cellex.boot_frame import send_boot_frame
from cellex.config import ActorSystemConfig
from cellex.reset_record import FileStore, ResetRecord
from cellex.root_escalation_sink import ROOT_RESET
from cellex.supervision import ESCALATE, SupervisorStrategy
from cellex.system import ActorSystem
from cellex.telemetry_uart import UartFailureTelemetry

record = ResetRecord(FileStore("cellex_reset.bin"))
record.boot()
uart = UartFailureTelemetry(board_config.telemetry_uart())
cfg = ActorSystemConfig(max_actors=4).with_reset_record(record).with_failure_telemetry(uart)
cfg.with_guardian_strategy(SupervisorStrategy(ESCALATE)).with_root_policy(ROOT_RESET)
system = ActorSystem(cfg)
system.spawn(Faulty(), "idle")
sensor = system.spawn(Faulty(), "sensor")
system.start()
send_boot_frame(uart, record, system)
if record.boot_count < 2:
    sensor.tell(FAIL)
    system.run_until_idle()  # ROOT_RESET: machine.reset() restarts the interpreter
"""

_ACTORS = """\
from cellex.actor import Actor

FAIL = "fail"
ERR = KeyError("lost")


class Faulty(Actor):
    def receive(self, msg):
        if msg is FAIL:
            raise ERR
"""


def test_virtual_board_reports_the_failure_that_reset_it_at_the_next_boot(tmp_path):
    fs = tmp_path / "fs"
    fs.mkdir()
    (fs / "main.py").write_text(_MAIN)
    (fs / "actors_boot.py").write_text(_ACTORS)
    with VirtualBoard(fs_dir=fs, rom_dirs=[ROM_DIR, ROOT / "firmware"]) as board:
        with serial.Serial(board.telemetry_path, timeout=0.2) as tel:
            # main.py runs at a hard reset, as on a board
            import subprocess

            subprocess.run(
                [str(ROOT / ".venv" / "bin" / "mpremote"), "connect", board.console_path, "reset"],
                capture_output=True, timeout=60, check=True,
            )  # fmt: skip
            dec = StreamDecoder()
            records = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and sum(isinstance(r, Boot) for r in records) < 2:
                records += dec.feed(tel.read(4096))
    boots = [r for r in records if isinstance(r, Boot)]
    assert len(boots) == 2, (dec.stats(), dec.last_error)
    first, second = boots
    # each boot frame opens the UART back-end's stream (seq 0); its failure frame follows as seq 1
    failure = records[records.index(first) + 1]
    assert (first.seq, first.stream_start, failure.kind, failure.seq, failure.stream_start) == (
        0, True, "failure", 1, False,
    )  # fmt: skip
    assert (second.seq, dec.boots, dec.stream_starts, dec.lost) == (0, 2, 0, 0)
    assert (first.record_valid, first.boot_count, first.has_failure) == (False, 0, False)
    assert (second.record_valid, second.boot_count, second.has_failure) == (True, 1, True)
    assert (second.failure_path, second.failure_error_type, second.failure_stage) == (
        "/user/sensor",
        "KeyError",
        1,
    )
    assert "last root failure before that: /user/sensor KeyError" in format_boot(second)
