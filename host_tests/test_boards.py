"""Boards and builds: mpy-cross output per architecture, make's answers to bad input, the .mpy suite."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p.stem for p in (ROOT / "firmware" / "cellex").glob("*.py"))
ARCHES = {"RPI_PICO": (b"\x06", 4), "PYBV11": (b"\x06", 7), "VIRTUAL": (b"\x06", 2)}  # MP_NATIVE_ARCH_*
TIMEOUT_S = 300


def make(*args, env=None):
    """Run make in the repo; returns (exit status, stdout + stderr)."""
    proc = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=TIMEOUT_S, env=dict(os.environ, **(env or {})),
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("board", sorted(ARCHES))
def test_mpy_build_has_every_module_for_the_board_arch(board, tmp_path):
    status, out = make("mpy", "BOARD=" + board, "MPY_BUILD=" + str(tmp_path))
    assert status == 0, out
    built = sorted(p.stem for p in (tmp_path / board / "cellex").glob("*.mpy"))
    assert built == SOURCES
    version, arch = ARCHES[board]
    for p in (tmp_path / board / "cellex").glob("*.mpy"):
        head = p.read_bytes()[:4]
        assert head[0:1] == b"M" and head[1:2] == version, p
        # header byte 2: native arch in the top 6 bits; pure-bytecode modules carry 0
        assert head[2] >> 2 in (0, arch), (p, head[2] >> 2)
    # compat.py holds viper code, so it must carry the board's arch
    assert (tmp_path / board / "cellex" / "compat.mpy").read_bytes()[2] >> 2 == arch


def test_mpy_build_drops_modules_whose_source_is_gone(tmp_path):
    stale = tmp_path / "VIRTUAL" / "cellex" / "gone_module.mpy"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"M\x06")
    status, out = make("mpy", "BOARD=VIRTUAL", "MPY_BUILD=" + str(tmp_path))
    assert status == 0, out
    assert not stale.exists()


def test_mpy_build_compiles_again_only_a_module_older_than_its_source(tmp_path):
    assert make("mpy", "BOARD=VIRTUAL", "MPY_BUILD=" + str(tmp_path))[0] == 0
    folder = tmp_path / "VIRTUAL" / "cellex"
    os.utime(folder / "timers.mpy", (0, 0))  # as if built before its source last changed
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert make("mpy", "BOARD=VIRTUAL", "MPY_BUILD=" + str(tmp_path))[0] == 0
    changed = {p.name for p in folder.iterdir() if p.stat().st_mtime_ns != before[p.name]}
    assert changed == {"timers.mpy"}


def test_unknown_board_is_refused_with_the_list():
    for target in ("mpy", "deploy", "firmware", "typecheck"):
        status, out = make(target, "BOARD=NOPE", "PORT=/dev/null", "MICROPY_DIR=/tmp")
        assert status != 0, target
        assert "unknown BOARD 'NOPE'" in out and "RPI_PICO PYBV11 VIRTUAL" in out, (target, out)


def test_deploy_without_port_says_how():
    status, out = make("deploy", "BOARD=RPI_PICO", "PORT=")
    assert status != 0
    assert "make deploy needs PORT=" in out and "/dev/ttyACM0" in out


def test_deploy_without_board_says_which():
    status, out = make("deploy", "BOARD=", "PORT=/dev/ttyACM0")
    assert status != 0
    assert "BOARD is not set" in out


def test_deploy_to_a_missing_port_says_so():
    status, out = make("deploy", "BOARD=VIRTUAL", "PORT=/dev/ttyACM97")
    assert status != 0
    assert "port /dev/ttyACM97 does not exist" in out


def test_firmware_without_the_vendored_source_says_where_to_get_it(tmp_path, monkeypatch):
    from cellex_tools import firmware

    monkeypatch.setattr(firmware, "VENDOR", tmp_path / "vendor")
    monkeypatch.setattr(firmware, "BUILD", tmp_path / "build")
    with pytest.raises(firmware.FirmwareError) as e:
        firmware.vendored_source()
    assert "no MicroPython source" in str(e.value) and "MICROPY_DIR=" in str(e.value)


def test_firmware_for_a_board_whose_port_is_not_vendored_asks_for_a_checkout():
    status, out = make("firmware", "BOARD=PYBV11", "MICROPY_DIR=")
    assert status != 0
    assert "holds the rp2 port only" in out and "MICROPY_DIR=" in out


def test_firmware_with_a_folder_that_is_not_micropython(tmp_path):
    status, out = make("firmware", "BOARD=PYBV11", "MICROPY_DIR=" + str(tmp_path))
    assert status != 0
    assert "is not a MicroPython checkout (no ports/stm32" in out


def test_firmware_without_the_arm_toolchain_says_what_to_install(tmp_path):
    # a PATH with make and the shell but no arm-none-eabi-gcc
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "sh", "cmake"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    status, out = make("firmware", "BOARD=RPI_PICO", env={"PATH": str(bin_dir)})
    assert status != 0
    assert "needs arm-none-eabi-gcc on PATH" in out and "apt-get install gcc-arm-none-eabi" in out


def test_firmware_key_changes_with_the_package_and_not_otherwise(tmp_path, monkeypatch):
    from cellex_tools import firmware

    for rel in ("firmware/manifest.py", "firmware/cellex", "boards/RPI_PICO"):
        src, dest = ROOT / rel, tmp_path / rel
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest)
    monkeypatch.setattr(firmware, "ROOT", tmp_path)
    before = firmware.build_key("RPI_PICO", "src")
    assert firmware.build_key("RPI_PICO", "src") == before
    assert firmware.build_key("RPI_PICO", "other source") != before
    (tmp_path / "firmware" / "cellex" / "actor.py").write_text("# changed\n", encoding="utf-8")
    assert firmware.build_key("RPI_PICO", "src") != before


# A Pico leaves about 192 KiB of MicroPython heap free after boot; the 64-bit unix
# port's GC blocks and pointers are twice as wide, so the same objects need about
# twice the bytes. (The suite itself passes down to 128k here: see README.)
PICO_SIZED_HEAP = "384k"


def test_portable_suite_passes_from_mpy_only_in_a_pico_sized_heap(tmp_path):
    """The portable tests inside MicroPython, importing only mpy-cross output (as a frozen
    build does), with a heap the size a Pico leaves free."""
    status, out = make("mpy", "BOARD=VIRTUAL", "MPY_BUILD=" + str(tmp_path))
    assert status == 0, out
    assert not list((tmp_path / "VIRTUAL").rglob("*.py"))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "host_tests/portable",
         "--interp", "micropython", "--mpy-dir", str(tmp_path / "VIRTUAL"),
         "--mp-heapsize", PICO_SIZED_HEAP],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
