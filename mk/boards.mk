# mk/boards.mk: boards, mpy-cross builds, firmware builds, deploy, virtual board, type checks.
#
#   make mpy [BOARD=B]                  .mpy of firmware/cellex for B (all boards if unset): cellex mpy
#   make firmware BOARD=B [MICROPY_DIR=D] MicroPython firmware for B with cellex frozen in (build/firmware/B)
#   make deploy BOARD=B PORT=/dev/ttyACM0  copy .mpy + board config (+ app) with mpremote, reset
#   make virtual-board                  MicroPython unix port behind two ptys (console, telemetry)
#   make typecheck [BOARD=B]            basedpyright of firmware/ against each board's stubs
#   make test-mpy                       portable suite inside MicroPython, from .mpy only
#   make boards                         list the boards

BOARDS := RPI_PICO PYBV11 VIRTUAL
MPY_BUILD ?= build/mpy

.PHONY: boards mpy firmware deploy virtual-board typecheck test-mpy stubs _check-board

# Each board's architecture lives in one place, cellex_tools/mpy.py (BOARD_ARCH).
boards: venv
	@echo "boards: $(BOARDS)"
	@$(BIN)/cellex mpy --list

# --- validation ------------------------------------------------------------
# Evaluated inside recipes, so `make test BOARD=x` is not affected.
define require_board
$(if $(BOARD),,$(error BOARD is not set. Choose one of: $(BOARDS) (e.g. make $(1) BOARD=RPI_PICO)))$(if $(filter $(BOARD),$(BOARDS)),,$(error unknown BOARD '$(BOARD)'. Boards: $(BOARDS)))
endef
define check_board_if_set
$(if $(BOARD),$(if $(filter $(BOARD),$(BOARDS)),,$(error unknown BOARD '$(BOARD)'. Boards: $(BOARDS))))
endef

# --- mpy-cross builds ------------------------------------------------------
# $(MPY_BUILD)/<BOARD>/cellex/*.mpy by `cellex mpy` (cellex_tools/mpy.py): changed modules
# only, -O1 as firmware/manifest.py freezes, .mpy whose source is gone removed.
.PHONY: $(addprefix mpy-,$(BOARDS))
$(addprefix mpy-,$(BOARDS)): mpy-%: venv
	@$(BIN)/cellex mpy --board $* --out $(MPY_BUILD)/$*

mpy:
	$(call check_board_if_set)
	@$(MAKE) --no-print-directory $(if $(BOARD),mpy-$(BOARD),$(addprefix mpy-,$(BOARDS)))

# --- firmware with cellex frozen in -----------------------------------------
# From the vendored MicroPython source (../shared/vendor) unless MICROPY_DIR names your
# checkout; keyed on its inputs and cached, so an unchanged tree is not rebuilt.
firmware: venv
	$(call require_board,firmware)
	$(BIN)/cellex firmware --board $(BOARD) $(if $(MICROPY_DIR),--micropy-dir $(MICROPY_DIR))

# --- deploy with mpremote -------------------------------------------------------
deploy: venv
	$(call require_board,deploy)
	@if [ -z "$(PORT)" ]; then \
	  echo "make deploy needs PORT=<serial device of the board>, e.g."; \
	  echo "  make deploy BOARD=$(BOARD) PORT=/dev/ttyACM0"; \
	  echo "Boards mpremote can see: $(BIN)/mpremote connect list"; \
	  echo "No board? make virtual-board, then PORT=<the console pty it prints> BOARD=VIRTUAL"; \
	  exit 2; fi
	$(BIN)/cellex deploy --board $(BOARD) --port $(PORT) --mpy-build $(MPY_BUILD) $(if $(APP),--app $(APP))

# --- virtual board -------------------------------------------------------------
VIRTUAL_FS ?= build/virtual-board/fs
virtual-board: venv
	$(BIN)/cellex virtual-board --fs $(VIRTUAL_FS)

# --- portable suite from .mpy only ---------------------------------------------
test-mpy: venv
	@$(MAKE) --no-print-directory mpy-VIRTUAL
	$(BIN)/python -m pytest host_tests/portable --interp micropython --mpy-dir $(MPY_BUILD)/VIRTUAL

# --- type checks against each board's stubs ------------------------------------
STUBS_DIR := build/stubs
stubs: $(foreach b,$(BOARDS),$(STUBS_DIR)/$(b)/.installed)
$(STUBS_DIR)/%/.installed: boards/%/requirements-stubs.txt | venv
	rm -rf $(@D)
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --target $(@D) -r $<
	touch $@

# boards/<B>/pyrightconfig.json: firmware/ and the board config against build/stubs/<B>
# (from boards/<B>/requirements-stubs.txt); MICROPYTHON is defined true there, so the
# CPython branch of compat.py is not checked against MicroPython stubs.
typecheck: venv
	$(call check_board_if_set)
	@status=0; for b in $(if $(BOARD),$(BOARD),$(BOARDS)); do \
	  $(MAKE) --no-print-directory $(STUBS_DIR)/$$b/.installed || exit 2; \
	  echo "== basedpyright: firmware/ + boards/$$b against $$b stubs"; \
	  $(BIN)/basedpyright -p boards/$$b/pyrightconfig.json || status=1; \
	done; exit $$status
