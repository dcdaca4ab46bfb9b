# mk/monitor.mk: `make monitor PORT=/dev/ttyACM0 [BAUD=115200] [MONITOR_ARGS=...]` watches a board's
# failure telemetry. PORT is anything pyserial opens: a device, a pty, socket://host:port,
# rfc2217://host:port. MONITOR_ARGS goes to `cellex monitor` as it is, e.g.
#   MONITOR_ARGS="--record bench.pcap --actor /user/sensors --mqtt mqtt://localhost:1883/cellex"
BAUD ?= 115200
MONITOR_ARGS ?=

.PHONY: monitor monitor-port-set

monitor-port-set:
	@if [ -z "$(PORT)" ]; then \
		echo "make monitor: PORT is not set; e.g. make monitor PORT=/dev/ttyACM0 [BAUD=115200]" >&2; \
		exit 2; \
	fi

monitor: monitor-port-set venv
	$(BIN)/cellex monitor --port "$(PORT)" --baud "$(BAUD)" $(MONITOR_ARGS)
