# Freeze manifest for the virtual board: the unix port with cellex built in.
# MIT licence.
# ruff: noqa: F821 - include/module/package/metadata are globals of MicroPython's manifestfile
#
#   make firmware BOARD=VIRTUAL MICROPY_DIR=~/micropython
# runs make -C $MICROPY_DIR/ports/unix FROZEN_MANIFEST=<abs path of this file>
# (needs only the host C compiler). cellex_tools/virtual_board.py does not need this
# build: it puts boards/VIRTUAL on the stock unix port's path instead.
include("$(PORT_DIR)/variants/manifest.py")
include("../../firmware/manifest.py")
module("board_config.py")
module("board_uart.py")
module("machine.py")
