"""Options shared by the whole host suite."""

ALL_INTERPRETERS = ("cpython", "micropython")


def pytest_addoption(parser):
    group = parser.getgroup("cellex")
    group.addoption(
        "--interp",
        default=",".join(ALL_INTERPRETERS),
        help="comma-separated interpreters for portable tests (default: cpython,micropython)",
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
    config.cellex_interpreters = chosen
