# mk/emulated.mk: a board without hardware that runs the real firmware. The RPI_PICO
# firmware (build/firmware/RPI_PICO/firmware.bin, from `make firmware`) on an emulated
# RP2040 (npm rp2040js, pinned in cellex_tools/emulated_pico/package-lock.json; needs Node.js >= 18).
#   make emulated-board [BOARD=RPI_PICO]   prints the console (USB REPL) and telemetry (UART0)
#                                          ptys, runs until Ctrl-C; mpremote / the monitor open them
#   make emulated-deps                     npm ci for the emulator (emulated-board does it too)
.PHONY: emulated-board emulated-deps

EMULATED_BOARDS := RPI_PICO
EMULATED_DIR := cellex_tools/emulated_pico

emulated-board: venv emulated-deps
	@$(if $(filter $(or $(BOARD),RPI_PICO),$(EMULATED_BOARDS)),,echo "make emulated-board: only $(EMULATED_BOARDS) can be emulated, not $(BOARD)"; exit 2)
	@$(MAKE) --no-print-directory firmware BOARD=RPI_PICO
	$(BIN)/cellex emulated-board --firmware build/firmware/RPI_PICO/firmware.bin

emulated-deps: $(EMULATED_DIR)/node_modules/.package-lock.json

$(EMULATED_DIR)/node_modules/.package-lock.json: $(EMULATED_DIR)/package-lock.json $(EMULATED_DIR)/package.json
	@command -v npm >/dev/null || { echo "npm not found: the emulated Pico needs Node.js >= 18 and npm (apt-get install nodejs npm)"; exit 2; }
	cd $(EMULATED_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
