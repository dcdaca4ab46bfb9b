"""The emulated Pico with real processes: RPI_PICO firmware on rp2040js, mpremote on its USB pty,
pyserial on its UART0 pty."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from cellex_tools.emulated_board import DEFAULT_FIRMWARE, RUNNER_DIR, EmulatedBoard, default_bootrom

pytestmark = [
    pytest.mark.host_only,
    pytest.mark.skipif(
        not DEFAULT_FIRMWARE.is_file(),
        reason="no RPI_PICO firmware at %s yet: make firmware BOARD=RPI_PICO" % DEFAULT_FIRMWARE,
    ),
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed (apt install nodejs)"),
    pytest.mark.skipif(not default_bootrom().is_file(), reason="no RP2040 boot ROM: %s" % default_bootrom()),
]

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = str(ROOT / ".venv" / "bin" / "mpremote")
TIMEOUT_S = 120


def mpremote(board, *args):
    proc = subprocess.run(
        [MPREMOTE, "connect", board.console_path, *args], capture_output=True, text=True, timeout=TIMEOUT_S
    )
    return proc.returncode, proc.stdout, proc.stderr


def cpu_seconds(pid):
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def board():
    with EmulatedBoard() as b:
        yield b


def test_boots_to_the_repl_and_mpremote_exec_runs_on_the_rp2_port(board):
    assert board.console_path.startswith("/dev/pts/") and board.telemetry_path.startswith("/dev/pts/")
    code = "import sys, os\nprint(sys.platform, os.uname().machine, 6 * 7)"
    status, out, err = mpremote(board, "exec", code)
    assert (status, out, err) == (0, "rp2 Raspberry Pi Pico with RP2040 42\n", "")


def test_a_file_copied_with_mpremote_is_on_littlefs_and_imports(board, tmp_path):
    src = tmp_path / "hello.py"
    src.write_text("def hello():\n    return 'hi from the chip'\n" + "# padding\n" * 300)
    status, out, err = mpremote(board, "fs", "cp", str(src), ":hello.py", "+", "fs", "ls")
    assert status == 0, err
    assert re.search(r"\b%d hello\.py" % src.stat().st_size, out), out
    status, out, err = mpremote(board, "exec", "import hello; print(hello.hello())")
    assert (status, out) == (0, "hi from the chip\n"), err
    assert board.stats()["flashPrograms"] > 0


def test_uart0_write_arrives_whole_on_the_telemetry_pty_and_the_board_keeps_answering(board):
    payload = b"A" * 200 + bytes(range(56))  # NUL, CR, LF and 0xff-free binary pass untouched
    with serial.Serial(board.telemetry_path, timeout=20) as tel:
        code = "from machine import UART\nprint(UART(0, 115200).write(b'A' * 200 + bytes(range(56))))"
        status, out, err = mpremote(board, "exec", code)
        assert (status, out) == (0, "256\n"), err
        assert tel.read(len(payload)) == payload
    status, out, err = mpremote(board, "exec", "print('still here')")
    assert (status, out) == (0, "still here\n"), err


def test_the_telemetry_line_is_paced_by_the_baud_rate(board):
    # 256 bytes at 9600 baud are 267 ms of simulated line time; a FIFO that sent at once would take ~0
    code = (
        "import time\nfrom machine import UART\nu = UART(0, 9600, txbuf=512)\nt = time.ticks_us()\n"
        "u.write(bytes(256))\nu.flush()\nprint(time.ticks_diff(time.ticks_us(), t))"
    )
    with serial.Serial(board.telemetry_path, timeout=20) as tel:
        status, out, err = mpremote(board, "exec", code)
        assert status == 0, err
        assert 250_000 <= int(out) <= 320_000, out
        assert tel.read(256) == bytes(256)


def test_machine_reset_boots_a_new_chip_keeping_the_flash_and_the_watchdog_scratch(board, tmp_path):
    keep = tmp_path / "keep.txt"
    keep.write_text("survives a reset\n")
    status, _, err = mpremote(board, "fs", "cp", str(keep), ":keep.txt")
    assert status == 0, err
    before = board.event_count()
    # SCRATCH0 (0x4005800c) survives a watchdog reset on the chip; rp2040js keeps it only in the
    # RPWatchdog object of the chip that is replaced, so the runner hands it over
    # (mpremote reset, not exec "machine.reset()": the USB port vanishes at the reset, see below)
    code = "import machine\nmachine.mem32[0x4005800c] = 0xC311E7"
    status, _, err = mpremote(board, "exec", code, "+", "reset")
    assert status == 0, err
    board.wait_repl(after=before, timeout=TIMEOUT_S)
    assert board.resets == 1
    status, out, err = mpremote(
        board, "exec",
        "import machine\nprint(open('keep.txt').read().strip(), machine.reset_cause() == machine.WDT_RESET,"
        " hex(machine.mem32[0x4005800c]))",
    )
    assert (status, out) == (0, "survives a reset True 0xc311e7\n"), err


def test_mpremote_reset_and_soft_reset(board):
    status, out, err = mpremote(
        board, "exec", "marker = 1", "+", "soft-reset", "+", "exec", "print('marker' in globals())"
    )
    assert (status, out) == (0, "False\n"), err
    before = board.event_count()
    status, _, err = mpremote(board, "reset")
    assert status == 0, err
    board.wait_repl(after=before, timeout=TIMEOUT_S)
    status, out, err = mpremote(board, "exec", "print('back')")
    assert (status, out) == (0, "back\n"), err


def test_a_watchdog_that_is_not_fed_resets_the_board(board):
    before = board.event_count()
    code = "from machine import WDT\nw = WDT(timeout=1000)\nprint('armed')"
    status, out, err = mpremote(board, "exec", code)
    assert (status, out) == (0, "armed\n"), err
    board.wait_repl(after=before, timeout=TIMEOUT_S)
    assert [ev["reason"] for ev in board.events(after=before) if ev["event"] == "reset"] == ["timer"]
    code = "import machine\nprint(machine.reset_cause() == machine.WDT_RESET)"
    status, out, err = mpremote(board, "exec", code)
    assert (status, out) == (0, "True\n"), err


def test_exec_machine_reset_loses_the_port_as_with_a_vanishing_usb_device(board):
    # On a Pico the USB device disappears at a reset and mpremote, still following the output,
    # stops with an error; here the console pty is hung up, then comes back under the same path.
    before = board.event_count()
    status, _, err = mpremote(board, "exec", "import machine; machine.reset()")
    assert status != 0 and "Error" in err, err
    board.wait_repl(after=before, timeout=TIMEOUT_S)
    status, out, err = mpremote(board, "exec", "print('back')")
    assert (status, out) == (0, "back\n"), err


def test_an_idle_board_sleeps(board):
    # The REPL waits in WFE; the held USB read means nothing wakes the core until the host types.
    time.sleep(1)
    first, cpu0 = board.stats(), cpu_seconds(board.pid)
    time.sleep(3)
    last, cpu1 = board.stats(), cpu_seconds(board.pid)
    assert last["instructions"] - first["instructions"] < 1_000_000
    assert cpu1 - cpu0 < 0.3, "the emulator used %.2f s of CPU in 3 s at an idle prompt" % (cpu1 - cpu0)
    # and simulated time followed the wall clock while it slept
    assert 2.5e9 < last["simNanos"] - first["simNanos"] < 3.6e9


def test_a_flash_image_keeps_the_filesystem_between_runs(tmp_path):
    image = tmp_path / "flash.bin"
    with EmulatedBoard(flash=image) as b:
        status, _, err = mpremote(b, "exec", "with open('note.txt', 'w') as f:\n    f.write('kept')")
        assert status == 0, err
    assert image.stat().st_size == 2 * 1024 * 1024
    with EmulatedBoard(flash=image) as b:
        status, out, err = mpremote(b, "exec", "print(open('note.txt').read())")
        assert (status, out) == (0, "kept\n"), err


def test_fastcore_matches_rp2040js_instruction_by_instruction():
    proc = subprocess.run(
        ["node", str(RUNNER_DIR / "lockstep.mjs"), "--firmware", str(DEFAULT_FIRMWARE),
         "--bootrom", str(default_bootrom()), "--mode", "check", "--instructions", "3000000"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "same output: true" in proc.stdout


def test_command_line_prints_both_paths_and_stops_on_sigterm_and_ctrl_c(tmp_path):
    for sig in (signal.SIGTERM, signal.SIGINT):
        info = tmp_path / ("info-%d" % sig)
        proc = subprocess.Popen(
            [sys.executable, "-m", "cellex_tools.emulated_board", "--firmware", str(DEFAULT_FIRMWARE),
             "--info", str(info)],
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
            assert info.read_text().startswith("CONSOLE=%s\n" % console)
            node_pid = int(re.search(r"node pid (\d+)", text).group(1))
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
        assert "emulated board stopped" in rest
        assert not Path("/proc/%d" % node_pid).exists()
        assert not info.exists()
