# board_config for Raspberry Pi Pico (RP2040): telemetry UART, capacities, back-ends.
# MIT licence.
#
# Frozen into the firmware by boards/RPI_PICO/manifest.py and also copied by
# `make deploy`; a board_config.py on the filesystem wins over the frozen one,
# so a deployed board can be retuned without rebuilding the firmware.
#
# Telemetry wiring: UART0, GP0 (pin 1) = TX -> adapter RX, GP1 (pin 2) = RX
# <- adapter TX (unused), GND (pin 3) -> adapter GND. 3.3 V logic only.
# The REPL stays on USB, so mpremote and the telemetry stream never share a wire.
from micropython import const

BOARD = "RPI_PICO"
MPY_ARCH = "armv6m"

# Telemetry UART
TELEMETRY_UART_ID = const(0)
TELEMETRY_TX_PIN = const(0)  # GP0
TELEMETRY_RX_PIN = const(1)  # GP1
TELEMETRY_BAUD = const(115200)
TELEMETRY_TXBUF = const(1024)  # rp2 UART tx ring: a few frames queue without blocking

# Actor system capacities (fixed at start; nothing grows afterwards)
MAX_ACTORS = const(16)
MAILBOX_CAPACITY = const(8)
SNAPSHOT_SLOTS = const(4)
RING_SLOTS = const(8)  # failures the RAM ring back-end keeps

# Back-ends built at start, in this order: "uart", "ring", "noop"
TELEMETRY_BACKENDS = ("uart", "ring")


def telemetry_uart():
    """Open the telemetry UART (call once, at start)."""
    from machine import UART, Pin

    return UART(
        TELEMETRY_UART_ID,
        baudrate=TELEMETRY_BAUD,
        tx=Pin(TELEMETRY_TX_PIN),
        rx=Pin(TELEMETRY_RX_PIN),
        txbuf=TELEMETRY_TXBUF,
        timeout=0,
    )
