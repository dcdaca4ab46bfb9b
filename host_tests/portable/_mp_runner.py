# _mp_runner: runs one portable test function inside MicroPython (unix port or a board).
# MIT licence.
# As a script: micropython _mp_runner.py MODULE FUNCTION
# Exit status: 0 passed, 1 failed (traceback on stdout), 77 skipped (reason on stdout).
# On a board: import _mp_runner; _mp_runner.run(MODULE, FUNCTION), and read the last line.
import sys

import support

SKIPPED = 77


def run(module_name, test_name):
    """Run one test; print PASS, SKIP: reason, or the traceback; return the exit status."""
    module = __import__(module_name)
    try:
        getattr(module, test_name)()
    except support.SkipTest as e:
        print("SKIP:", e.args[0] if e.args else "")
        return SKIPPED
    except BaseException as e:  # noqa: BLE001 - every failure is reported to pytest
        sys.print_exception(e, sys.stdout)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2]))
