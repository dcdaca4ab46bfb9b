# board_uart: the virtual board's telemetry UART, a pseudo-terminal the host reads.
# MIT licence.
#
# cellex_tools/virtual_board.py sets CELLEX_TELEMETRY_TTY to the board side of the
# telemetry pty; the host side is the path it prints (open it with the monitor
# as you would /dev/ttyUSB0). Bytes written with no listener are dropped by the
# virtual board, as on a real wire, so write() never blocks for long.
# The same class is machine.UART on the virtual board (see machine.py).
import os

_ENV = "CELLEX_TELEMETRY_TTY"


class UART:
    """The subset of machine.UART a telemetry back-end uses: write/any/read/flush/txdone."""

    def __init__(self, id=0, baudrate=115200, *args, **kwargs):
        path = os.getenv(_ENV)
        if not path:
            raise OSError("no telemetry pty: %s is unset (run under cellex_tools/virtual_board.py)" % _ENV)
        self.id = id
        self.baudrate = baudrate
        self._f = open(path, "wb")  # unbuffered FileIO: one write() syscall per call

    def write(self, buf, n=-1):
        """Write buf, or its first n bytes (as MicroPython streams do); returns the count.

        Allocation-free either way, so UartFailureTelemetry's sized writes stay
        allocation-free on the virtual board too.
        """
        if n < 0:
            return self._f.write(buf)
        return self._f.write(buf, n)

    def any(self):
        return 0

    def read(self, nbytes=-1):
        return None

    def readinto(self, buf, nbytes=-1):
        return None

    def flush(self):
        pass

    def txdone(self):
        return True

    def deinit(self):
        self._f.close()
