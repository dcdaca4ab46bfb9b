# Benchmarks (issue 6): MicroPython unix port and CPython side by side.
#   make bench        full tables (a couple of minutes)
#   make bench-quick  the short CI mode
#   make bench-json   one JSON object, to compare commits (make bench-json > before.json)
.PHONY: bench bench-quick bench-json

bench: venv
	$(BIN)/cellex bench

bench-quick: venv
	$(BIN)/cellex bench --quick

bench-json: venv
	@$(BIN)/cellex bench --json
