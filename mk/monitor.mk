# mk/monitor.mk: `make monitor PORT=/dev/ttyACM0 [BAUD=115200]` watches a board's failure telemetry.
# PORT is anything pyserial opens: a device, a pty, socket://host:port, rfc2217://host:port.
BAUD ?= 115200

.PHONY: monitor monitor-port-set

monitor-port-set:
	@if [ -z "$(PORT)" ]; then \
		echo "make monitor: PORT is not set; e.g. make monitor PORT=/dev/ttyACM0 [BAUD=115200]" >&2; \
		exit 2; \
	fi

monitor: monitor-port-set venv
	$(BIN)/cellex monitor --port "$(PORT)" --baud "$(BAUD)"
