# mk/toolchain.mk: the system packages firmware builds need (Debian/Ubuntu names, pinned).
#   make toolchain   checks for them; as root on Debian installs them with apt-get, else says how
APT_TOOLCHAIN := gcc-arm-none-eabi=15:12.2.rel1-1 libnewlib-arm-none-eabi=3.3.0-1.3+deb12u1 cmake=3.25.1-1
.PHONY: toolchain
toolchain:
	@# newlib is there when the compiler finds its libc.a by an absolute path
	@if command -v arm-none-eabi-gcc >/dev/null 2>&1 && command -v cmake >/dev/null 2>&1 \
	  && [ -f "$$(arm-none-eabi-gcc -print-file-name=libc.a)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "toolchain: installing $(APT_TOOLCHAIN)"; \
	  apt-get update -q || exit 2; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_TOOLCHAIN) \
	    || { echo "toolchain: the pinned versions (Debian 12's) are not offered here; taking the distribution's" >&2; \
	         DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(foreach p,$(APT_TOOLCHAIN),$(firstword $(subst =, ,$(p)))); } \
	    || { echo "toolchain: apt-get failed" >&2; exit 2; }; \
	else \
	  echo "toolchain: firmware builds need arm-none-eabi-gcc, newlib and cmake. Install them:" >&2; \
	  echo "  sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi cmake" >&2; \
	  echo "  (or the Arm GNU Toolchain); then re-run. 'make test-host' runs everything but the chip." >&2; \
	  exit 2; \
	fi

# Node.js runs the emulated RP2040 (cellex_tools/emulated_pico); CI machines have it, this is the fallback.
.PHONY: node
node:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm || exit 2; \
	else \
	  echo "node: the emulated Pico needs Node.js >= 18 and npm: sudo apt-get install nodejs npm" >&2; exit 2; \
	fi
