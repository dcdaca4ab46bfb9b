"""The watchdog names the actor that hung (issue 16): an actor whose receive() never returns stops
the feeding, the watchdog resets the board, and the next boot frame says so with the actor's path.

On the virtual board (the host process plays the watchdog: it kills and restarts the interpreter,
the record is a file) and on the emulated Pico (the real firmware's machine.WDT; rp2040js counts it
down and our runner hands SCRATCH0-7 and the reset reason to the next chip, as the RP2040 keeps them).
"""

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import serial

from cellex_tools.emulated_board import DEFAULT_FIRMWARE, EmulatedBoard, default_bootrom
from cellex_tools.virtual_board import ROM_DIR, VirtualBoard
from cellex_tools.wire_decoder import Boot, StreamDecoder

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = str(ROOT / ".venv" / "bin" / "mpremote")

# main.py: the first boot hangs in /user/sensors/imu's receive(); the boot after the reset reports it.
HANG_APP = """\
import board_config
from cellex.actor import Actor
from cellex.boot_frame import send_boot_frame
from cellex.config import ActorSystemConfig
from cellex.reset_record import ResetRecord, board_store
from cellex.system import ActorSystem
from cellex.telemetry_uart import UartFailureTelemetry


class Imu(Actor):
    def receive(self, msg):
        while msg == "hang":
            pass


record = ResetRecord(board_store())
record.boot()
uart = UartFailureTelemetry(board_config.telemetry_uart())
cfg = ActorSystemConfig(max_actors=4).with_failure_telemetry(uart).with_reset_record(record)
hang = record.running_id == 0  # no actor hung before this boot
if hang:
    cfg.with_watchdog(%(timeout_ms)d)  # once started, a watchdog cannot be stopped: only here
system = ActorSystem(cfg)
sensors = system.spawn(Actor(), "sensors")
imu = system.spawn(Imu(), "imu", parent=sensors)
system.start()
send_boot_frame(uart, record, system)
if hang:
    imu.tell("tick")
    imu.tell("hang")
    system.run_until_idle()
print("watchdog app: reported")
"""


def _boots(tel, count, timeout_s):
    dec = StreamDecoder()
    boots = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(boots) < count:
        boots += [r for r in dec.feed(tel.read(4096)) if isinstance(r, Boot)]
    return boots, dec


def _assert_the_hung_actor_is_named(boots, dec):
    assert len(boots) == 2, (dec.stats(), dec.last_error)
    hung = boots[1]
    assert (hung.cause, hung.record_valid, hung.running_path) == ("watchdog", True, "/user/sensors/imu")
    assert hung.boot_count == boots[0].boot_count + 1
    assert (dec.boots, dec.stream_starts, dec.crc_errors) == (2, 0, 0)


def test_on_the_virtual_board_a_hung_receive_is_reset_by_the_watchdog_and_named_at_the_next_boot(tmp_path):
    fs = tmp_path / "fs"
    fs.mkdir()
    with VirtualBoard(fs_dir=fs, rom_dirs=[ROM_DIR, ROOT / "firmware"]) as board:
        (fs / "main.py").write_text(HANG_APP % {"timeout_ms": 300})
        with serial.Serial(board.telemetry_path, timeout=0.2) as tel:
            # a hard reset runs main.py, as on a board
            subprocess.run([MPREMOTE, "connect", board.console_path, "reset"], capture_output=True,
                           timeout=60, check=True)  # fmt: skip
            boots, dec = _boots(tel, 2, 30)
        assert board.watchdog_resets == 1
    _assert_the_hung_actor_is_named(boots, dec)
    assert (boots[0].cause, boots[0].record_valid, boots[0].running_id) == ("hard reset", False, 0)


_chip = pytest.mark.skipif(
    not DEFAULT_FIRMWARE.is_file() or shutil.which("node") is None or not default_bootrom().is_file(),
    reason="needs the RPI_PICO firmware (make chip-firmware), Node.js and the RP2040 boot ROM",
)


@_chip
def test_on_the_emulated_pico_a_hung_receive_is_reset_by_the_watchdog_and_named_at_the_next_boot(tmp_path):
    app = tmp_path / "main.py"
    app.write_text(HANG_APP % {"timeout_ms": 300})
    with EmulatedBoard() as board:
        proc = subprocess.run([MPREMOTE, "connect", board.console_path, "fs", "cp", str(app), ":main.py"],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        before = board.resets
        with serial.Serial(board.telemetry_path, timeout=0.2) as tel:
            # mpremote reset is a watchdog reset too (machine.reset()): main.py runs, hangs, is reset
            subprocess.run([MPREMOTE, "connect", board.console_path, "reset"], capture_output=True,
                           timeout=120)  # fmt: skip
            boots, dec = _boots(tel, 2, 120)
        assert board.resets == before + 2
    _assert_the_hung_actor_is_named(boots, dec)
