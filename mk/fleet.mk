# mk/fleet.mk: fleet telemetry needs an MQTT broker; its tests start a real Mosquitto.
#   make broker   checks for mosquitto; as root on Debian installs it with apt-get, else says how
# (make test and make test-host depend on it: host_tests/test_mqtt_fleet.py runs the broker.)
APT_BROKER := mosquitto
.PHONY: broker
broker:
	@if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "broker: installing $(APT_BROKER)"; \
	  apt-get update -q || exit 2; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(APT_BROKER) \
	    || { echo "broker: apt-get install $(APT_BROKER) failed" >&2; exit 2; }; \
	else \
	  echo "broker: the fleet telemetry tests need the Mosquitto MQTT broker. Install it:" >&2; \
	  echo "  sudo apt-get install mosquitto     (macOS: brew install mosquitto)" >&2; \
	  exit 2; \
	fi
