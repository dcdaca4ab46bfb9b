# cellex package manifest: freezes the firmware package into a MicroPython build.
# MIT licence.
# ruff: noqa: F821 - include/module/package/metadata are globals of MicroPython's manifestfile
#
# Board manifests include this file; it can also be used on its own, e.g.
#   make -C ports/unix FROZEN_MANIFEST=/abs/path/firmware/manifest.py
# opt=1 strips `assert` (never used for runtime invariants) but keeps line
# numbers in tracebacks, so failure reports still point at the right line.
# cellex_tools/mpy.py (`cellex mpy`, `make mpy`) compiles with the same level (-O1): keep them in step.
metadata(
    description="cellex: no-allocation actor runtime with failure telemetry",
    version="0.1.0",
    license="MIT",
)

package("cellex", opt=1)
