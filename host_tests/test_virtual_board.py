"""The virtual board with real processes: mpremote against its console pty, bytes out of its telemetry pty."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from cellex_tools.deploy import DeployError, deploy
from cellex_tools.virtual_board import VirtualBoard

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = str(ROOT / ".venv" / "bin" / "mpremote")
TIMEOUT_S = 60


def mpremote(board, *args):
    proc = subprocess.run(
        [MPREMOTE, "connect", board.console_path, *args], capture_output=True, text=True, timeout=TIMEOUT_S
    )
    return proc.returncode, proc.stdout, proc.stderr


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too
    try:
        return Path("/proc/%d/stat" % pid).read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture
def board():
    with VirtualBoard() as b:
        yield b


def test_devices_are_ptys_and_exec_runs_on_micropython(board):
    assert board.console_path.startswith("/dev/pts/") and board.telemetry_path.startswith("/dev/pts/")
    status, out, err = mpremote(board, "exec", "import sys; print(sys.implementation.name, 6 * 7)")
    assert (status, out, err) == (0, "micropython 42\n", "")


def test_fs_cp_lands_in_the_board_folder_and_run_executes_a_file(board, tmp_path):
    src = tmp_path / "hello.py"
    src.write_text("def hello():\n    return 'hi from the board'\n")
    status, out, err = mpremote(board, "fs", "cp", str(src), ":hello.py", "+", "fs", "ls")
    assert status == 0, err
    assert "hello.py" in out
    assert (board.fs_dir / "hello.py").read_text() == src.read_text()
    script = tmp_path / "script.py"
    script.write_text("import hello\nprint(hello.hello())\n")
    status, out, err = mpremote(board, "run", str(script))
    assert (status, out) == (0, "hi from the board\n"), err


def test_errors_on_the_board_come_back_as_errors(board):
    status, out, err = mpremote(board, "exec", "raise ValueError('boom')")
    assert status == 1
    assert "ValueError: boom" in out + err


def test_telemetry_pty_receives_the_exact_bytes_the_board_writes(board):
    payload = bytes(range(256))  # NUL, LF, CR, 0xff: a binary stream must pass untouched
    with serial.Serial(board.telemetry_path, timeout=10) as tel:
        status, out, err = mpremote(
            board, "exec",
            "import board_config\nu = board_config.telemetry_uart()\nprint(u.write(bytes(range(256))))",
        )
        assert (status, out) == (0, "256\n"), err
        assert tel.read(256) == payload
        status, out, err = mpremote(
            board, "exec", "import machine\nprint(machine.UART(0).write(b'\\x00cellex\\x00'))"
        )
        assert (status, out) == (0, "8\n"), err
        assert tel.read(8) == b"\x00cellex\x00"


def test_soft_reset_starts_a_fresh_interpreter(board):
    status, _, err = mpremote(board, "exec", "marker = 1", "+", "resume", "exec", "print(marker)")
    assert status == 0, err
    before = board.pid
    status, _, err = mpremote(board, "soft-reset")
    assert status == 0, err
    status, out, err = mpremote(board, "resume", "exec", "print('marker' in globals())")
    assert (status, out) == (0, "False\n"), err
    assert board.pid != before and not alive(before)


def test_reset_runs_main_py_and_mpremote_interrupts_it(board, tmp_path):
    main = tmp_path / "main.py"
    main.write_text(
        "import machine, time\n"
        "u = machine.UART(0)\n"
        "u.write(b'booted\\n')\n"
        "while True:\n"
        "    time.sleep_ms(10)\n"
    )
    with serial.Serial(board.telemetry_path, timeout=20) as tel:
        status, _, err = mpremote(board, "fs", "cp", str(main), ":main.py", "+", "reset")
        assert status == 0, err
        assert tel.readline() == b"booted\n"
    # main.py loops forever; mpremote's Ctrl-C gets the REPL back, as on a board
    status, out, err = mpremote(board, "exec", "print('back')")
    assert (status, out) == (0, "back\n"), err


def test_deploy_puts_the_mpy_package_on_the_board(board):
    status = subprocess.run(
        ["make", "--no-print-directory", "mpy", "BOARD=VIRTUAL"], cwd=ROOT, capture_output=True, timeout=300
    ).returncode
    assert status == 0
    result = deploy("VIRTUAL", board.console_path)
    assert result.board_arch == "x64" and result.mpy_bytes > 0
    assert sorted(p.name for p in (board.fs_dir / "lib" / "cellex").iterdir()) == sorted(
        os.path.basename(local) for local, remote in result.files if remote.startswith(":lib/cellex/")
    )
    status, out, err = mpremote(
        board, "exec", "import cellex.compat, board_config\nprint(cellex.compat.__file__, board_config.BOARD)"
    )
    assert (status, out) == (0, "./lib/cellex/compat.mpy VIRTUAL\n"), err


def test_deploy_refuses_a_board_of_another_architecture(board):
    subprocess.run(
        ["make", "--no-print-directory", "mpy", "BOARD=RPI_PICO"], cwd=ROOT, timeout=300, check=True,
        capture_output=True,
    )
    with pytest.raises(DeployError, match="runs x64 code, but BOARD=RPI_PICO is built for armv6m"):
        deploy("RPI_PICO", board.console_path)


def test_stop_leaves_no_process_behind():
    board = VirtualBoard().start()
    pid = board.pid
    fs = board.fs_dir
    assert alive(pid)
    board.stop()
    assert not alive(pid)
    assert not fs.exists()
    board.stop()  # twice is fine


def test_command_line_prints_both_paths_and_stops_on_sigterm_and_ctrl_c(tmp_path):
    for sig in (signal.SIGTERM, signal.SIGINT):
        info = tmp_path / ("info-%d" % sig)
        proc = subprocess.Popen(
            [sys.executable, "-m", "cellex_tools.virtual_board",
             "--fs", str(tmp_path / "fs"), "--info", str(info)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            lines = []
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("Ctrl-C to stop"):
                    break
            text = "".join(lines)
            console = re.search(r"console:\s+(\S+)", text).group(1)
            assert re.search(r"telemetry:\s+/dev/pts/\d+", text), text
            pid = int(re.search(r"pid (\d+)", text).group(1))
            status = subprocess.run(
                [MPREMOTE, "connect", console, "exec", "print(1 + 1)"], capture_output=True, text=True,
                timeout=TIMEOUT_S,
            )
            assert status.stdout == "2\n", status.stderr
            proc.send_signal(sig)
            rest, _ = proc.communicate(timeout=TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(TIMEOUT_S)
        assert proc.returncode == 0, rest
        assert "virtual board stopped" in rest
        assert not alive(pid)
        assert not info.exists()
