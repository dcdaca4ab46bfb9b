# Benchmarks (issue 6): MicroPython unix port and CPython side by side.
#   make bench        full tables (a couple of minutes)
#   make bench-quick  the short CI mode
#   make bench-json   one JSON object, to compare commits (make bench-json > before.json)
.PHONY: bench bench-quick bench-json

bench: venv
	$(BIN)/python -m cellex_tools.bench

bench-quick: venv
	$(BIN)/python -m cellex_tools.bench --quick

bench-json: venv
	@$(BIN)/python -m cellex_tools.bench --json
