"""Firmware with cellex frozen in, built from MicroPython's source: `make firmware BOARD=...`.

    cellex firmware --board RPI_PICO [--micropy-dir DIR]

Without --micropy-dir the source is the vendored release in ../shared/vendor
(MicroPython v1.28.0 with pico-sdk, tinyusb, micropython-lib and mbedtls filled in),
unpacked once into build/. The result lands in build/firmware/<BOARD>/ (firmware.bin,
.elf, .hex, and key.txt naming the inputs). A build is keyed on the sha256 of every
input (the MicroPython source, the board's manifest and config, the cellex package,
this file, the compiler's version) and kept in a cache outside the checkout
($CELLEX_CACHE or ~/.cache/cellex), so an unchanged tree never builds twice, even
from a fresh clone on the same machine.

Facts this relies on (../shared/vendor/README.md): offline, pico-sdk cannot fetch
picotool, so rp2 is configured with -DPICO_NO_PICOTOOL=1 (no .uf2, the .bin is
flashed or emulated); `CMAKE_ARGS=` on the rp2 make line replaces the board and the
frozen manifest, so cmake is driven directly here.
"""

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = Path(os.environ.get("CELLEX_SHARED", ROOT.parent / "shared")) / "vendor"
TARBALL = "micropython-1.28.0-rp2.tar.xz"
TARBALL_SHA256 = "222df9709f575270175aa76ec0f23501c5646907f1a7acf2e69e90453f033c31"
TARBALL_TOP = "micropython-1.28.0"
BUILD = ROOT / "build"
APT_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi cmake"

# board -> (MicroPython port, outputs copied out of the port's build folder)
BOARDS = {
    "RPI_PICO": ("rp2", ("firmware.bin", "firmware.elf", "firmware.hex")),
    "PYBV11": ("stm32", ("firmware.dfu", "firmware.hex", "firmware.elf")),
}


class FirmwareError(Exception):
    """The firmware cannot be built; the message says what to do."""


def _sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _need_tools(board):
    missing = [t for t in ("arm-none-eabi-gcc", "cmake", "make") if shutil.which(t) is None]
    if missing:
        raise FirmwareError(
            "building %s firmware needs %s on PATH.\n"
            "  Debian/Ubuntu: sudo apt-get install %s\n"
            "  (or the Arm GNU Toolchain); then re-run." % (board, ", ".join(missing), APT_PACKAGES)
        )


# Frozen native code for ARMv6-M/v7-M: mpy-tool.py aligns it to 2 bytes, but the Thumb
# emitter loads constants of 32768 and more with `ldr rX, [pc, #imm]` from a literal
# placed as if the code began on a 4-byte boundary; placed at 2 mod 4 by the linker, the
# load reads half an instruction (seen on the emulated RP2040: a frozen Timers.arm read
# its generation limit wrong). Code loaded from .mpy into the heap is 4-byte aligned.
_MPY_TOOL = "tools/mpy-tool.py"
_MPY_TOOL_OLD = (
    "            # ARMVxxM or RV{32,64}IMC -- two byte align.\n"
    '            self.fun_data_attributes += " __attribute__ ((aligned (2)))"\n'
)
_MPY_TOOL_NEW = (
    "            # ARMVxxM or RV{32,64}IMC -- four byte align (cellex: Thumb literal loads).\n"
    '            self.fun_data_attributes += " __attribute__ ((aligned (4)))"\n'
)
PATCH_ID = "thumb-align-1"


def patch_source(mp_dir):
    """Apply cellex's fix to a MicroPython tree (the vendored one: see _MPY_TOOL_OLD)."""
    tool = mp_dir / _MPY_TOOL
    text = tool.read_text()
    if _MPY_TOOL_NEW in text:
        return
    if _MPY_TOOL_OLD not in text:
        raise FirmwareError("%s is not the one cellex knows how to patch" % tool)
    tool.write_text(text.replace(_MPY_TOOL_OLD, _MPY_TOOL_NEW))


def vendored_source():
    """Unpack the vendored MicroPython release into build/ once, patched; return its folder."""
    tarball = VENDOR / TARBALL
    dest = BUILD / TARBALL_TOP
    stamp = dest / ".cellex-unpacked"
    if stamp.exists() and stamp.read_text() == TARBALL_SHA256 + " " + PATCH_ID:
        return dest
    if not tarball.exists():
        raise FirmwareError(
            "no MicroPython source: %s is missing.\n"
            "  Put the shared folder beside this checkout (../shared/vendor), set CELLEX_SHARED,\n"
            "  or build from your own checkout: make firmware MICROPY_DIR=~/micropython" % tarball
        )
    digest = _sha256_file(tarball)
    if digest != TARBALL_SHA256:
        raise FirmwareError("%s has sha256 %s, expected %s" % (tarball, digest, TARBALL_SHA256))
    print("firmware: unpacking %s into %s" % (tarball.name, BUILD), flush=True)
    shutil.rmtree(dest, ignore_errors=True)
    BUILD.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(BUILD, filter="tar")
    patch_source(dest)
    stamp.write_text(TARBALL_SHA256 + " " + PATCH_ID)
    return dest


def _inputs(board, source_id):
    """(name, bytes) of everything the firmware depends on, in a stable order."""
    yield "source", source_id.encode()
    cc = subprocess.run(["arm-none-eabi-gcc", "--version"], capture_output=True, text=True).stdout
    yield "cc", cc.splitlines()[0].encode() if cc else b""
    yield "cellex_tools/firmware.py", Path(__file__).read_bytes()
    files = [ROOT / "firmware" / "manifest.py"]
    files += sorted((ROOT / "firmware" / "cellex").glob("*.py"))
    files += sorted(p for p in (ROOT / "boards" / board).iterdir() if p.suffix == ".py")
    for path in files:
        yield str(path.relative_to(ROOT)), path.read_bytes()


def build_key(board, source_id):
    """sha256 of the build's inputs: equal keys mean an identical firmware."""
    h = hashlib.sha256()
    for name, data in _inputs(board, source_id):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def cache_dir():
    base = os.environ.get("CELLEX_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cellex"
    )
    return Path(base) / "firmware"


def _run(cmd, log):
    print("firmware: " + " ".join(str(c) for c in cmd), flush=True)
    with open(log, "a") as out:
        status = subprocess.run([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT).returncode
    if status:
        tail = Path(log).read_text(errors="replace").splitlines()[-25:]
        raise FirmwareError("command failed (exit %d): %s\n%s\n(full log: %s)" % (
            status, " ".join(str(c) for c in cmd), "\n".join(tail), log))


def _compile(board, mp_dir, work, log):
    """Build the port with the board's manifest; return the port's build folder."""
    port, _ = BOARDS[board]
    manifest = ROOT / "boards" / board / "manifest.py"
    jobs = str(os.cpu_count() or 2)
    _run(["make", "-C", mp_dir / "mpy-cross", "-j" + jobs], log)
    if port == "rp2":
        build = work / ("build-" + board)
        # Regenerated every build: its generator's own fixes (patch_source) leave no
        # trace make can see.
        (build / "frozen_content.c").unlink(missing_ok=True)
        _run(["cmake", "-S", mp_dir / "ports" / "rp2", "-B", build, "-DMICROPY_BOARD=" + board,
              "-DPICO_NO_PICOTOOL=1", "-DMICROPY_FROZEN_MANIFEST=" + str(manifest)], log)
        _run(["cmake", "--build", build, "-j", jobs], log)
        return build
    # stm32 is make-only; FROZEN_MANIFEST is a make variable there (no CMAKE_ARGS trap).
    _run(["make", "-C", mp_dir / "ports" / port, "-j" + jobs, "BOARD=" + board, "submodules"], log)
    _run(["make", "-C", mp_dir / "ports" / port, "-j" + jobs, "BOARD=" + board,
          "FROZEN_MANIFEST=" + str(manifest)], log)
    return mp_dir / "ports" / port / ("build-" + board)


def build(board, micropy_dir=None, out=None, force=False):
    """Build (or take from the cache) the firmware for board; return its output folder.

    Builds in one checkout are serialised by a lock file, so two builds started at once
    (two terminals, parallel test runs) never share the port's build folder.
    """
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / "firmware.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(board, micropy_dir, out, force)


def _build(board, micropy_dir, out, force):
    if board not in BOARDS:
        raise FirmwareError("no firmware build for BOARD=%s; boards: %s" % (board, ", ".join(BOARDS)))
    _need_tools(board)
    port, products = BOARDS[board]
    if micropy_dir:
        mp_dir = Path(micropy_dir).expanduser().resolve()
        if not (mp_dir / "ports" / port).is_dir():
            raise FirmwareError("MICROPY_DIR=%s is not a MicroPython checkout (no ports/%s)" % (mp_dir, port))
        # A user's checkout is keyed on its path and commit; uncommitted edits there are
        # caught by the port's own incremental make, so the cache is skipped for it.
        source_id, cacheable = str(mp_dir), False
        tool = mp_dir / _MPY_TOOL
        if tool.exists() and _MPY_TOOL_OLD in tool.read_text():
            print("firmware: warning: %s aligns frozen Thumb code to 2 bytes, which breaks native\n"
                  "  code's large constants (see patch_source in cellex_tools/firmware.py); the vendored\n"
                  "  source is patched, your checkout is left as it is" % tool, file=sys.stderr)
    else:
        if port != "rp2":
            raise FirmwareError(
                "the vendored MicroPython holds the rp2 port only; for BOARD=%s give your own\n"
                "  checkout: make firmware BOARD=%s MICROPY_DIR=~/micropython" % (board, board))
        mp_dir, source_id, cacheable = vendored_source(), TARBALL_SHA256 + " " + PATCH_ID, True
    key = build_key(board, source_id)
    out = Path(out or BUILD / "firmware" / board)
    if not force and (out / "key.txt").exists() and (out / "key.txt").read_text().strip() == key:
        print("firmware: %s is up to date (key %s)" % (out, key[:12]))
        return out
    cached = cache_dir() / board / key
    if cacheable and not force and (cached / "key.txt").exists():
        print("firmware: from the cache %s" % cached)
        _copy_products(cached, out, products + ("key.txt",))
        return out
    work = BUILD / "firmware-work"
    work.mkdir(parents=True, exist_ok=True)
    log = work / (board + ".log")
    log.write_text("")
    port_build = _compile(board, mp_dir, work, log)
    (port_build / "key.txt").write_text(key + "\n")
    _copy_products(port_build, out, products + ("key.txt",))
    if cacheable:
        # Publish into the cache atomically: a half-copied entry is never a hit.
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cached.parent))
        _copy_products(out, tmp, products + ("key.txt",))
        shutil.rmtree(cached, ignore_errors=True)
        tmp.rename(cached)
    print("firmware: %s (%d bytes), key %s" % (
        out / products[0], (out / products[0]).stat().st_size, key[:12]))
    return out


def _copy_products(src, dest, names):
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (src / name).exists():
            shutil.copy2(src / name, dest / name)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="cellex firmware", description=__doc__.split("\n")[0])
    parser.add_argument("--board", required=True, help="one of: " + ", ".join(BOARDS))
    parser.add_argument("--micropy-dir", help="your MicroPython checkout (default: the vendored release)")
    parser.add_argument("--out", help="output folder (default: build/firmware/<BOARD>)")
    parser.add_argument("--force", action="store_true", help="build even when the key matches")
    args = parser.parse_args(argv)
    try:
        build(args.board, args.micropy_dir, args.out, args.force)
    except FirmwareError as e:
        print("firmware: " + str(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
