"""cellex installed the MicroPython way: `mpremote mip install` of the repository's package.json."""

import subprocess
from pathlib import Path

import pytest

from cellex_tools import package_json
from cellex_tools.virtual_board import VirtualBoard

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = ROOT / ".venv" / "bin" / "mpremote"


def test_package_json_lists_every_module_of_the_package():
    assert package_json.main(["--check"]) == 0, "run: python -m cellex_tools.package_json"


def test_mip_install_from_a_local_path_puts_cellex_in_the_board_lib(tmp_path):
    with VirtualBoard(fs_dir=tmp_path / "fs") as board:
        proc = subprocess.run(
            [str(MPREMOTE), "connect", board.console_path, "mip", "install", str(ROOT / "package.json")],
            capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        installed = sorted(p.name for p in (tmp_path / "fs" / "lib" / "cellex").iterdir())
        assert installed == sorted(p.name for p in (ROOT / "firmware" / "cellex").glob("*.py"))
        code = (
            "from cellex.system import ActorSystem\n"
            "from cellex.config import ActorSystemConfig\n"
            "import cellex.system\n"
            "s = ActorSystem(ActorSystemConfig())\n"
            "s.start()\n"
            "print(cellex.system.__file__)\n"
        )
        proc = subprocess.run(
            [str(MPREMOTE), "connect", board.console_path, "exec", code],
            capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.strip() == "./lib/cellex/system.py", proc.stdout
