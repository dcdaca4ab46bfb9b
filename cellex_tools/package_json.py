"""package.json for `mpremote mip install`: written from the package itself, checked by a test.

    python -m cellex_tools.package_json          rewrite package.json at the repository's root
    python -m cellex_tools.package_json --check  exit 1 if it is stale (a module added or gone)

Users of stock MicroPython install cellex with
    mpremote mip install github:<owner>/<repo>      (or a local path to this package.json)
which copies the .py sources to the board's lib/cellex/. The board's own compiler
then builds the @micropython.native functions for its own architecture, so no
per-architecture .mpy is needed this way (`make deploy` ships precompiled .mpy instead).
URLs are relative to this file: a fork or a clone installs from itself.
"""

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "firmware" / "cellex"
TARGET = ROOT / "package.json"


def version():
    """The version in firmware/manifest.py's metadata(): one source for both installers."""
    tree = ast.parse((ROOT / "firmware" / "manifest.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "metadata":
            for kw in node.keywords:
                if kw.arg == "version":
                    return kw.value.value
    raise SystemExit("no metadata(version=...) in firmware/manifest.py")


def render():
    urls = [["cellex/" + p.name, "firmware/cellex/" + p.name] for p in sorted(PACKAGE.glob("*.py"))]
    return json.dumps({"urls": urls, "deps": [], "version": version()}, indent=1) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("package.json is stale: run python -m cellex_tools.package_json", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print("wrote %s (%d files)" % (TARGET, text.count("firmware/cellex/")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
