# Freeze manifest for Raspberry Pi Pico (RP2040, Cortex-M0+) with cellex built in.
# MIT licence.
# ruff: noqa: F821 - include/module/package/metadata are globals of MicroPython's manifestfile
#
#   make firmware BOARD=RPI_PICO MICROPY_DIR=~/micropython
# runs make -C $MICROPY_DIR/ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=<abs path of this file>.
# The port manifest comes first: without it rp2 loses _boot.py and its filesystem.
# Paths are relative to this file.
include("$(PORT_DIR)/boards/manifest.py")
include("../../firmware/manifest.py")
module("board_config.py")
