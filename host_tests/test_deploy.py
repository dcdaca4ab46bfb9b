"""deploy to a wrong port fails within seconds and names the likely mistake (real virtual board, ptys)."""

import os
import pty
import threading
import time
from pathlib import Path

import pytest

from cellex_tools import cli, repl_port
from cellex_tools.deploy import DeployError, deploy
from cellex_tools.virtual_board import VirtualBoard

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
# repl_port's wait, plus room for a loaded CI machine; mpremote alone waited 120 s here.
WITHIN_S = repl_port.DEFAULT_TIMEOUT_S + 5


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    with VirtualBoard(fs_dir=tmp_path_factory.mktemp("fs")) as b:
        yield b


def test_deploy_to_the_telemetry_pty_fails_within_seconds_naming_the_telemetry_port(board):
    started = time.monotonic()
    with pytest.raises(DeployError) as e:
        deploy("VIRTUAL", board.telemetry_path)
    assert time.monotonic() - started < WITHIN_S
    message = str(e.value)
    assert "no MicroPython REPL answered on %s" % board.telemetry_path in message
    assert "is it the telemetry port?" in message and "CONSOLE pty" in message


def test_the_console_pty_still_deploys_after_a_wrong_port(board):
    with pytest.raises(DeployError):
        deploy("VIRTUAL", board.telemetry_path)
    assert deploy("VIRTUAL", board.console_path, reset=False).board_arch == "x64"


def test_cellex_deploy_to_a_missing_path_fails_at_once_saying_so(capsys):
    started = time.monotonic()
    assert cli.main(["deploy", "--board", "VIRTUAL", "--port", "/dev/ttyACM97"]) == 2
    assert time.monotonic() - started < 2
    err = capsys.readouterr().err
    assert "port /dev/ttyACM97 does not exist" in err and "virtual-board" in err


def test_a_port_that_streams_frames_is_called_a_telemetry_port():
    master, slave = pty.openpty()
    stop = threading.Event()

    def stream_frames():
        # What a board's telemetry UART sends: COBS frames, each ended by 0x00; it reads nothing.
        while not stop.is_set():
            os.write(master, b"\x03\x11\x22\x00")
            time.sleep(0.05)

    sender = threading.Thread(target=stream_frames, daemon=True)
    sender.start()
    try:
        with pytest.raises(repl_port.ReplPortError, match="0x00-delimited frames, as a cellex telemetry"):
            repl_port.check(os.ttyname(slave), timeout_s=1)
    finally:
        stop.set()
        sender.join(timeout=5)
        os.close(slave)
        os.close(master)


def test_a_file_that_is_not_a_serial_port_is_refused_at_once(tmp_path):
    not_a_port = tmp_path / "notes.txt"
    not_a_port.write_text("hello\n")
    with pytest.raises(repl_port.ReplPortError, match="cannot open .* as a serial port"):
        repl_port.check(str(not_a_port))
