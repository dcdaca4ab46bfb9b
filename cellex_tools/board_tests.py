"""The portable test suite on a board over its raw REPL: `cellex test-board --port PORT`.

    cellex test-board --port /dev/ttyACM0 [pytest options, e.g. -k timers -x]
    cellex test-board --port emulated          (the RPI_PICO firmware on an emulated RP2040)

Runs pytest on host_tests/portable with `--board PORT --interp board` (see
host_tests/portable/conftest.py and board_session.py): the test files live in the
repository, so this runs from a checkout with the development tools (make venv).
"""

import argparse
import subprocess
import sys

from cellex_tools.resources import CHECKOUT

SUITE = "host_tests/portable"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="cellex test-board",
        description=__doc__.splitlines()[0],
        epilog="Any other option goes to pytest.",
    )
    parser.add_argument(
        "--port", required=True,
        help="the board's REPL port: /dev/ttyACM0, the virtual board's console pty, or 'emulated'",
    )
    args, pytest_args = parser.parse_known_args(argv)
    cmd = [sys.executable, "-m", "pytest", SUITE, "--board", args.port, "--interp", "board", *pytest_args]
    return subprocess.run(cmd, cwd=CHECKOUT).returncode
