# cellex: the two commands are `make demo` (run) and `make test` (test).
# Everything else is a building block of those two.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MICROPYTHON ?= $(abspath $(BIN)/micropython)
export MICROPYTHON

.PHONY: venv test test-host lint clean

# The virtual environment is rebuilt whenever requirements.txt changes.
$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

venv: $(BIN)/.installed

# Everything, three places: CPython, the MicroPython unix port, the emulated Pico (mk/chip.mk).
# The firmware is built first, so the host tests of the emulated board run too.
test: venv chip-firmware
	$(BIN)/python -m pytest
	@$(MAKE) --no-print-directory test-chip

# Without the chip: CPython and the unix port only (no ARM toolchain needed).
test-host: venv
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check firmware boards apps tools host_tests

clean:
	rm -rf build .pytest_cache

-include mk/*.mk
