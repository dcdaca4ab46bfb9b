# board_config for pyboard v1.1 (STM32F405): telemetry UART, capacities, back-ends.
# MIT licence.
#
# Frozen into the firmware by boards/PYBV11/manifest.py and also copied by
# `make deploy`; a board_config.py on the filesystem wins over the frozen one,
# so a deployed board can be retuned without rebuilding the firmware.
#
# Telemetry wiring: UART(4) on the "XA" pins, X1 (PA0) = TX -> adapter RX,
# X2 (PA1) = RX <- adapter TX (unused), GND -> adapter GND. 3.3 V logic.
# UART(1) (X9/X10) is avoided: it shares PB6/PB7 with I2C(1), the accelerometer.
# The REPL stays on USB, so mpremote and the telemetry stream never share a wire.
from micropython import const

BOARD = "PYBV11"
MPY_ARCH = "armv7emsp"

# Telemetry UART (stm32 UART pins are fixed per bus; no tx=/rx= arguments)
TELEMETRY_UART_ID = const(4)
TELEMETRY_TX_PIN = "X1"
TELEMETRY_RX_PIN = "X2"
TELEMETRY_BAUD = const(115200)

# Actor system capacities (fixed at start; nothing grows afterwards)
MAX_ACTORS = const(16)
MAILBOX_CAPACITY = const(8)
SNAPSHOT_SLOTS = const(4)
RING_SLOTS = const(16)  # failures the RAM ring back-end keeps (192 KB RAM here)

# Back-ends built at start, in this order: "uart", "ring", "noop"
TELEMETRY_BACKENDS = ("uart", "ring")


def telemetry_uart():
    """Open the telemetry UART (call once, at start)."""
    from machine import UART

    return UART(TELEMETRY_UART_ID, TELEMETRY_BAUD, timeout=0)
