# mk/board_tests.mk: the portable suite on a board over its raw REPL.
#   make test-board PORT=/dev/ttyACM0     (a Pico, a pyboard, or the virtual board's console pty)
.PHONY: test-board
test-board: venv
	@if [ -z "$(PORT)" ]; then \
	  echo "make test-board needs PORT=<the board's REPL port>, e.g. PORT=/dev/ttyACM0"; \
	  echo "(no board? run: make virtual-board, then use its console pty)"; exit 2; fi
	$(BIN)/cellex test-board --port $(PORT)
