# _mp_runner: runs one portable test function inside MicroPython.
# MIT licence.
# Usage: micropython _mp_runner.py MODULE FUNCTION
# Exit status: 0 passed, 1 failed (traceback on stdout), 77 skipped (reason on stdout).
import sys

import support


def main(module_name, test_name):
    module = __import__(module_name)
    try:
        getattr(module, test_name)()
    except support.SkipTest as e:
        print("SKIP:", e.args[0] if e.args else "")
        sys.exit(77)
    except BaseException as e:  # noqa: BLE001 - every failure is reported to pytest
        sys.print_exception(e, sys.stdout)
        sys.exit(1)
    print("PASS")


main(sys.argv[1], sys.argv[2])
