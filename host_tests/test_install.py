"""`pip install .`: a wheel with the runtime (typed) and the host tools, giving a working `cellex` command.

Offline: the wheel is built with the pinned setuptools of .venv (--no-build-isolation) and
installed with --no-deps into a fresh venv; the dependencies the monitor imports come from
the pinned .venv through one .pth line, and `pip check` proves they satisfy the declared ranges.
"""

import ast
import json
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
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


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A fresh venv with the wheel installed, and (path, seconds the install took)."""
    home = tmp_path_factory.mktemp("venv") / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", home])
    python = home / "bin" / "python"
    started = time.monotonic()
    run([*PIP, "--python", python, "install", "-q", "--no-deps", "--no-index", wheel])
    seconds = time.monotonic() - started
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    Path(site, "pinned_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return home, seconds


def test_the_wheel_carries_the_typed_runtime_and_the_tools_but_no_node_modules(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    runtime = {n.split("/", 1)[1] for n in names if n.startswith("cellex/")}
    assert runtime >= {p.name for p in (ROOT / "firmware" / "cellex").glob("*.py")}
    assert runtime >= {p.name for p in (ROOT / "firmware" / "cellex").glob("*.pyi")}
    assert "py.typed" in runtime
    assert {"cellex_tools/cli.py", "cellex_tools/monitor.py", "cellex_tools/emulated_pico/run.mjs",
            "cellex_tools/emulated_pico/package-lock.json"} <= set(names)
    assert not [n for n in names if "node_modules" in n]


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


def test_a_command_that_needs_the_repository_says_so_from_an_install(venv):
    proc = subprocess.run(
        [str(venv[0] / "bin" / "cellex"), "deploy", "--board", "RPI_PICO", "--port", "/dev/ttyACM0"],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert proc.returncode == 2
    assert "runs from a checkout of the cellex repository" in proc.stderr
