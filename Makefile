# cellex: the two commands are `make demo` (run) and `make test` (test).
# Everything else is a building block of those two.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MICROPYTHON ?= $(abspath $(BIN)/micropython)
export MICROPYTHON

.PHONY: help venv test test-host lint clean
.DEFAULT_GOAL := help

help:
	@echo "cellex: make <target>"
	@echo "  demo            the demo on the virtual board (no hardware)"
	@echo "  test            every test: CPython, the MicroPython unix port, the emulated Pico"
	@echo "  test-host       the tests without the chip (no ARM toolchain needed)"
	@echo "  test-chip       the portable suite and the demo on the emulated Pico"
	@echo "  demo-chip       the demo on the emulated Pico"
	@echo "  bench           benchmark tables (unix port, CPython); bench-quick, bench-json"
	@echo "  bench-chip      the benchmark tables on the emulated Pico"
	@echo "  firmware        BOARD=RPI_PICO [MICROPY_DIR=...]: MicroPython with cellex frozen in"
	@echo "  mpy             [BOARD=...]: .mpy of the package per board"
	@echo "  deploy          BOARD=... PORT=... [APP=...]: cellex, board config and app to a board"
	@echo "  monitor         PORT=... [BAUD=...]: watch a board's failure telemetry"
	@echo "  virtual-board   the unix port behind two ptys (console, telemetry)"
	@echo "  emulated-board  the RPI_PICO firmware on an emulated RP2040 behind two ptys"
	@echo "  test-board      PORT=...: the portable suite on a board over its raw REPL"
	@echo "  test-mpy        the portable suite from .mpy only"
	@echo "  lint, typecheck ruff; basedpyright against each board's stubs"
	@echo "  toolchain       check for (as root on Debian: install) the ARM toolchain"
	@echo "  boards, clean"
	@echo "The host tools as one command: .venv/bin/cellex --help (pipx install . puts it on PATH)."

# The virtual environment is rebuilt whenever requirements.txt or pyproject.toml changes:
# the pinned tools, then this checkout itself, editable (its dependencies are among the
# pinned ones), which puts the `cellex` command in $(BIN).
$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	touch $@

venv: $(BIN)/.installed

# Everything, three places: CPython, the MicroPython unix port, the emulated Pico (mk/chip.mk).
# The firmware is built first, so the host tests of the emulated board run too.
test: venv broker chip-firmware
	$(BIN)/python -m pytest
	@$(MAKE) --no-print-directory test-chip

# Without the chip: CPython and the unix port only (no ARM toolchain needed).
test-host: venv broker
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check firmware boards apps cellex_tools host_tests

clean:
	rm -rf build .pytest_cache

-include mk/*.mk
