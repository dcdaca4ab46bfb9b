"""Options shared by the whole host suite."""

ALL_INTERPRETERS = ("cpython", "micropython", "board")
DEFAULT_INTERPRETERS = "cpython,micropython"


def pytest_addoption(parser):
    group = parser.getgroup("cellex")
    group.addoption(
        "--interp",
        default=DEFAULT_INTERPRETERS,
        help="comma-separated interpreters for portable tests (default: cpython,micropython; "
        "--board adds board)",
    )
    group.addoption(
        "--board",
        default="",
        metavar="PORT",
        help="also run every portable test on the MicroPython board at PORT (a serial device, "
        "a pty, or a pyserial URL), over its raw REPL; 'emulated' starts the emulated Pico "
        "(build/firmware/RPI_PICO/firmware.bin, from `make firmware BOARD=RPI_PICO`)",
    )
    group.addoption(
        "--board-timeout", type=float, default=60.0, help="seconds one test may run on the board"
    )
    group.addoption("--mp-heapsize", default="", help="MicroPython heap size for portable tests, e.g. 200k")
    group.addoption(
        "--mpy-dir",
        default="",
        help="import the cellex package from this folder of .mpy files in MicroPython runs",
    )


def pytest_configure(config):
    chosen = [name.strip() for name in config.getoption("--interp").split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ALL_INTERPRETERS))
    if unknown:
        raise ValueError("unknown --interp %s; choose from %s" % (unknown, ", ".join(ALL_INTERPRETERS)))
    if config.getoption("--board") and "board" not in chosen:
        chosen.append("board")
    if "board" in chosen and not config.getoption("--board"):
        raise ValueError("--interp board needs --board PORT")
    config.cellex_interpreters = chosen
