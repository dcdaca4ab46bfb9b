# mk/demo.mk: the main job. `make demo` runs the demo on the virtual board (no hardware).
.PHONY: demo
demo: venv mpy-VIRTUAL
	$(BIN)/cellex demo
