# machine for the virtual board: the unix port's built-in machine plus UART and reset().
# MIT licence.
#
# `machine` is an extensible built-in in MicroPython, so this file (on the
# virtual board's "frozen" path) is what `import machine` finds; it re-exports
# the built-in module and adds what a board has and the unix port lacks.
import sys

_path = sys.path
sys.path = []
try:
    from machine import *  # noqa: F403 - the built-in module, found with an empty path
finally:
    sys.path = _path

from board_uart import UART  # noqa: E402,F401

# cellex_tools/virtual_board.py restarts the board after any exit: this code means
# "hard reset" (fresh start in the friendly REPL, main.py runs), anything else
# is a soft reset. Keep in step with HARD_RESET_EXIT there.
_HARD_RESET_EXIT = 120


def reset():
    """Hard reset: the virtual board restarts the interpreter and runs main.py."""
    sys.exit(_HARD_RESET_EXIT)
