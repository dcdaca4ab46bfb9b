"""package.json for `mpremote mip install`: written from the package itself, checked by a test.

    cellex package-json          rewrite package.json at the repository's root
    cellex package-json --check  exit 1 if it is stale (a module added or gone)

Users of stock MicroPython install cellex with
    mpremote mip install github:<owner>/<repo>      (or a local path to this package.json)
which copies the .py sources to the board's lib/cellex/. The board's own compiler
then builds the @micropython.native functions for its own architecture, so no
per-architecture .mpy is needed this way (`make deploy` ships precompiled .mpy instead).
URLs are relative to this file: a fork or a clone installs from itself.
"""

import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "firmware" / "cellex"
TARGET = ROOT / "package.json"


def version():
    """cellex.__version__, read from the source: the one version pip, mip and the firmware share."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["__version__"]:
            return node.value.value
    raise SystemExit("no __version__ in firmware/cellex/__init__.py")


def render():
    urls = [["cellex/" + p.name, "firmware/cellex/" + p.name] for p in sorted(PACKAGE.glob("*.py"))]
    return json.dumps({"urls": urls, "deps": [], "version": version()}, indent=1) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="cellex package-json", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if package.json is stale; write nothing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("package.json is stale: run cellex package-json", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print("wrote %s (%d files)" % (TARGET, text.count("firmware/cellex/")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
