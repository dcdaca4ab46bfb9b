"""The `cellex` command: one entry point for the host tools.

    cellex <command> [options]        `cellex <command> --help` lists the command's options
    cellex --version | --help

Each command is a module of cellex_tools with a main(argv); everything after the
command's name goes to it untouched, so that module's parser is the one source of
its options (the Makefile's targets call these commands too). From any install
(pip, pipx) monitor, mpy, deploy, virtual-board, demo and bench work: the wheel
carries the board folders and the example apps (resources.py finds them; in a
checkout, the checkout's own), and virtual-board, demo and bench need the unix
port, the `virtual` extra (pip install '.[virtual]'). The others build or
test from the repository's files (the MicroPython sources, the built firmware,
host_tests/) and so run from a checkout; each says what it needs.
"""

import difflib
import importlib
import os
import sys

from cellex import __version__
from cellex_tools.resources import in_checkout

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command killed by it


class Command:
    """A subcommand: the cellex_tools module whose main(argv) runs it, and its line in --help."""

    def __init__(self, module, summary, needs_checkout=None):
        self.module = module
        self.summary = summary
        self.needs_checkout = needs_checkout  # None, or what of a checkout it uses (for the message)


COMMANDS = {
    "monitor": Command("monitor", "watch a board's failure telemetry (serial port, pty, socket://)"),
    "deploy": Command("deploy", "copy cellex (.mpy), the board config and an app to a board; reset it"),
    "virtual-board": Command("virtual_board", "a board without hardware: the unix port behind two ptys"),
    "emulated-board": Command(
        "emulated_board", "the RPI_PICO firmware on an emulated RP2040, two ptys",
        "the firmware `make firmware BOARD=RPI_PICO` builds there and the emulator's node modules",
    ),
    "demo": Command("demo", "the demo app on the virtual (or emulated) board, watched by the monitor"),
    "test-board": Command(
        "board_tests", "the portable test suite on a board over its raw REPL", "the tests in host_tests/",
    ),
    "bench": Command("bench", "benchmark tables: the MicroPython unix port and CPython side by side"),
    "bench-chip": Command(
        "bench_chip", "the benchmark tables on the emulated Pico (or a board)",
        "the emulated Pico (the firmware built there) and the board test runner in host_tests/",
    ),
    "mpy": Command("mpy", "compile cellex with mpy-cross for a board's architecture"),
    "firmware": Command(
        "firmware", "build MicroPython for a board with cellex frozen in",
        "the MicroPython sources (../shared/vendor, or MICROPY_DIR) and firmware/manifest.py",
    ),
    "package-json": Command(
        "package_json", "write (or --check) package.json for mpremote mip install",
        "the repository's package.json and firmware/cellex",
    ),
}


def usage():
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: cellex <command> [options]    (cellex <command> --help for its options)",
        "",
        "cellex %s: host tools for the cellex actor runtime on MicroPython boards." % __version__,
        "",
        "commands:",
    ]
    lines += ["  %-*s  %s" % (width, name, c.summary) for name, c in COMMANDS.items()]
    lines += [
        "",
        "options:",
        "  -h, --help     this list",
        "  --version      the version of cellex",
        "",
        "From a checkout of the repository only (git clone, then make venv; the command is",
        ".venv/bin/cellex there): %s."
        % ", ".join(name for name, c in COMMANDS.items() if c.needs_checkout),
        "virtual-board, demo and bench need the MicroPython unix port: install cellex with",
        "its `virtual` extra (pipx install '.[virtual]' or pip install '.[virtual]' in a clone).",
    ]
    return "\n".join(lines)


def main(argv=None):
    """Run `cellex <command> ...`; returns the exit status (2 for a usage error)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print(usage(), file=sys.stderr)
        return EXIT_USAGE
    name, rest = argv[0], argv[1:]
    if name in ("-h", "--help", "help"):
        print(usage())
        return 0
    if name == "--version":
        print("cellex %s" % __version__)
        return 0
    command = COMMANDS.get(name)
    if command is None:
        close = difflib.get_close_matches(name, COMMANDS, n=1)
        print(
            "cellex: unknown command %r%s. Commands: %s (cellex --help says what each does)"
            % (name, " (did you mean %r?)" % close[0] if close else "", ", ".join(COMMANDS)),
            file=sys.stderr,
        )
        return EXIT_USAGE
    if command.needs_checkout and not in_checkout():
        print(
            "cellex %s runs from a checkout of the cellex repository: it uses %s, which an installed "
            "package does not carry. Clone the repository, run `make venv` there and use "
            ".venv/bin/cellex %s (or the make target)." % (name, command.needs_checkout, name),
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        status = importlib.import_module("cellex_tools." + command.module).main(rest)
        sys.stdout.flush()
    except BrokenPipeError:
        # The output went to a reader that stopped (`| head`): stop quietly, as shells expect.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
