# mk/chip.mk: cellex on the chip. Real RPI_PICO firmware (cellex frozen in, built from
# MicroPython's source) on an emulated RP2040 (npm rp2040js), no hardware.
#   make test-chip    the portable suite, then the demo, on the emulated Pico
#   make demo-chip    the demo alone on the emulated Pico (monitor on its UART0)
.PHONY: test-chip demo-chip chip-firmware

PICO_FIRMWARE := build/firmware/RPI_PICO/firmware.bin

chip-firmware: venv toolchain node emulated-deps
	@$(MAKE) --no-print-directory firmware BOARD=RPI_PICO

test-chip: chip-firmware
	$(BIN)/cellex test-board --port emulated -q
	@$(MAKE) --no-print-directory demo-chip

demo-chip: chip-firmware
	$(BIN)/cellex demo --board emulated --timeout 600

# The make-bench table measured on the emulated Pico (short mode; --full for the long one).
.PHONY: bench-chip
bench-chip: chip-firmware
	$(BIN)/cellex bench-chip
