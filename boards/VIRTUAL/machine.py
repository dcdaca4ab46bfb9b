# machine for the virtual board: the unix port's built-in machine plus UART, reset(),
# reset_cause() and WDT.
# MIT licence.
#
# `machine` is an extensible built-in in MicroPython, so this file (on the
# virtual board's "frozen" path) is what `import machine` finds; it re-exports
# the built-in module and adds what a board has and the unix port lacks.
import sys
import time

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


# reset_cause() values (as on the stm32 and esp32 ports; only the names are portable)
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

# cellex_tools/virtual_board.py tells each interpreter why it was started (power-on,
# hard, soft, watchdog) in this variable, and reads watchdog feeds from a pipe
# whose descriptor is in _WDT_FD. Keep in step with RESET_CAUSE_ENV / WDT_FD_ENV there.
_CAUSE_ENV = "CELLEX_RESET_CAUSE"
_WDT_FD_ENV = "CELLEX_WDT_FD"
_CAUSES = {"power-on": PWRON_RESET, "hard": HARD_RESET, "watchdog": WDT_RESET, "soft": SOFT_RESET}


def reset_cause():
    """Why this interpreter started: PWRON_RESET, HARD_RESET, WDT_RESET or SOFT_RESET."""
    import os

    return _CAUSES.get(os.getenv(_CAUSE_ENV) or "power-on", PWRON_RESET)


class WDT:
    """The watchdog of the virtual board: the board (the host process) kills and
    restarts the interpreter when feed() is not called for `timeout` ms, and the
    next interpreter's reset_cause() is WDT_RESET. As on a board it cannot be
    stopped once started. feed() allocates nothing."""

    def __init__(self, id=0, timeout=5000):
        import os

        fd = os.getenv(_WDT_FD_ENV)
        if not fd:
            raise OSError("no watchdog: %s is unset (run under cellex_tools/virtual_board.py)" % _WDT_FD_ENV)
        self._f = open("/dev/fd/" + fd, "wb")
        self._f.write(("T%d\n" % timeout).encode())
        self._last = time.ticks_ms()

    def feed(self):
        # At most one byte per 10 ms down the pipe: feeds come once per actor turn.
        now = time.ticks_ms()
        if now - self._last >= 10 or now < self._last:
            self._last = now
            self._f.write(b"F")
