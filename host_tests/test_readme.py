"""The README's usage example runs as written, under both interpreters."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent


def _example(tmp_path):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"## Using it\n\n```python\n(.*?)```", text, re.S).group(1)
    # The example ends in the main loop; run one pass of it instead of forever.
    loop = "while True:\n    system.run_until_idle()"
    assert loop in code
    code = code.split(loop)[0] + "print(system.run_until_idle(), system.counters.delivered)\n"
    path = tmp_path / "example.py"
    path.write_text(code)
    return path


@pytest.mark.parametrize("interpreter", ["cpython", "micropython"])
def test_the_usage_example_runs_and_dispatches_its_message(tmp_path, interpreter):
    path = _example(tmp_path)
    if interpreter == "cpython":
        cmd, env = [sys.executable, str(path)], dict(os.environ, PYTHONPATH=str(ROOT / "firmware"))
    else:
        binary = os.environ.get("MICROPYTHON") or str(ROOT / ".venv" / "bin" / "micropython")
        cmd, env = [binary, str(path)], dict(os.environ, MICROPYPATH=str(ROOT / "firmware"))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1 1"
