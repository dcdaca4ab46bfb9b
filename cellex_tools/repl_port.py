"""Is a MicroPython REPL on this port? Answered within seconds, naming the likely mistake when not.

deploy (and the board test runner) talk to a board's REPL. Pointed at the wrong port,
mpremote waits for its whole timeout and then blames the board; the usual mistake is
the telemetry port: the USB-serial adapter on the board's UART, or the virtual or
emulated board's TELEMETRY pty, printed next to its CONSOLE pty.
"""

import time

import serial

DEFAULT_TIMEOUT_S = 5.0
# What MicroPython prints on Ctrl-A (the raw REPL's banner).
_RAW_REPL_BANNER = b"raw REPL; CTRL-B to exit"
# Ctrl-C twice stops a running program, Ctrl-A asks for the raw REPL; Ctrl-B leaves it again.
_KNOCK = b"\r\x03\x03\x01"
_LEAVE = b"\x02"


class ReplPortError(Exception):
    """No MicroPython REPL on the port; str(e) says what the port probably is and what to do."""


def advice(port):
    """The likely mistakes when `port` does not answer as a MicroPython REPL (lines to print)."""
    return (
        "  - is it the telemetry port? That is the USB-serial adapter on the board's UART, or the\n"
        "    TELEMETRY pty of `cellex virtual-board` / `cellex emulated-board`: watch it with\n"
        "    `cellex monitor --port %s`, and deploy to the board's REPL port instead (its own USB,\n"
        "    or the CONSOLE pty the virtual board printed)\n"
        "  - is another program using it (screen, minicom, the monitor, another mpremote)?\n"
        "  - does the board run MicroPython? Flash it first (RP2040: hold BOOTSEL, copy the .uf2)"
        % port
    )


def check(port, timeout_s=DEFAULT_TIMEOUT_S):
    """Return once a MicroPython REPL answers on `port`; raise ReplPortError within timeout_s if not.

    Interrupts a running program, as mpremote does, and leaves the REPL as it found it
    (the friendly REPL)."""
    try:
        link = serial.serial_for_url(port, baudrate=115200, timeout=0.05)
    except (serial.SerialException, OSError, ValueError) as e:
        raise ReplPortError("cannot open %s as a serial port: %s" % (port, e)) from None
    try:
        link.write(_KNOCK)
        heard = b""
        deadline = time.monotonic() + timeout_s
        while _RAW_REPL_BANNER not in heard and time.monotonic() < deadline:
            heard += link.read(256)
        if _RAW_REPL_BANNER in heard:
            link.write(_LEAVE)
            return
    except (serial.SerialException, OSError) as e:
        raise ReplPortError("%s failed while asking for the REPL: %s\n%s" % (port, e, advice(port))) from None
    finally:
        link.close()
    if b"\x00" in heard:
        what = "it sent 0x00-delimited frames, as a cellex telemetry port does"
    elif heard:
        what = "it sent %d bytes, but not a REPL's" % len(heard)
    else:
        what = "it stayed silent"
    raise ReplPortError(
        "no MicroPython REPL answered on %s within %.0f s (%s).\n%s" % (port, timeout_s, what, advice(port))
    )
