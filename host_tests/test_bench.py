"""The benchmark runs in its quick mode and prints every row: not a timed test (no speed asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cellex_tools import bench

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.host_only


def _run(*args):
    proc = subprocess.run(
        [sys.executable, "-m", "cellex_tools.bench", "--quick", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_quick_bench_prints_a_full_table_per_interpreter():
    out = _run()
    assert "micropython  (" in out
    assert "cpython  (" in out
    for _section, label, _get, _unit, _target in bench.ROWS:
        assert out.count(label) >= 2, label  # a row in each table (and in the summary when missed)
    assert "targets (MicroPython unix port):" in out


def test_quick_bench_json_parses_with_every_row():
    report = json.loads(_run("--json", "--interp", "micropython"))
    assert report["machine"]["cpu"]
    rows = report["interpreters"]["micropython"]["rows"]
    assert [r["label"] for r in rows] == [row[1] for row in bench.ROWS]
    results = report["interpreters"]["micropython"]["results"]
    assert results["interpreter"] == "micropython"
    assert results["alloc_steady_messages"] is not None


def test_one_group_runs_alone_and_fills_its_rows():
    report = json.loads(_run("--json", "--interp", "micropython", "--group", "protocols"))
    rows = {r["label"]: r for r in report["interpreters"]["micropython"]["rows"]}
    assert rows["ask + reply + run, per round trip"]["value"] > 0
    assert rows["gross: ask + reply"]["value"] == 0
    assert rows["bare method call (the limit)"]["value"] is None  # another group's row
