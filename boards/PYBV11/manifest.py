# Freeze manifest for pyboard v1.1 (STM32F405, Cortex-M4F) with cellex built in.
# MIT licence.
# ruff: noqa: F821 - include/module/package/metadata are globals of MicroPython's manifestfile
#
#   make firmware BOARD=PYBV11 MICROPY_DIR=~/micropython
# runs make -C $MICROPY_DIR/ports/stm32 BOARD=PYBV11 FROZEN_MANIFEST=<abs path of this file>.
# The port manifest comes first: it sets up the stm32 frozen modules (e.g. dht, onewire).
# Paths are relative to this file.
include("$(PORT_DIR)/boards/manifest.py")
include("../../firmware/manifest.py")
module("board_config.py")
