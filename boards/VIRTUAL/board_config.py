# board_config for the virtual board (MicroPython unix port behind a pty).
# MIT licence.
#
# Same names as the hardware boards' board_config, so an app runs unchanged.
# The telemetry UART is a pseudo-terminal: cellex_tools/virtual_board.py prints its
# host-side path (open it with the monitor like a USB-serial adapter).
from micropython import const

BOARD = "VIRTUAL"
MPY_ARCH = "x64"

# Telemetry UART (pins are nominal: the wire is a pty)
TELEMETRY_UART_ID = const(0)
TELEMETRY_TX_PIN = const(0)
TELEMETRY_RX_PIN = const(1)
TELEMETRY_BAUD = const(115200)

# Actor system capacities: the Pico's, so the virtual board shows what fits there
MAX_ACTORS = const(16)
MAILBOX_CAPACITY = const(8)
SNAPSHOT_SLOTS = const(4)
RING_SLOTS = const(8)

# Back-ends built at start, in this order: "uart", "ring", "noop"
TELEMETRY_BACKENDS = ("uart", "ring")


def telemetry_uart():
    """Open the telemetry UART (call once, at start)."""
    from board_uart import UART

    return UART(TELEMETRY_UART_ID, baudrate=TELEMETRY_BAUD)
