"""The `cellex` command: its version, its help, its errors, and commands that reach their modules."""

import os
import subprocess
from pathlib import Path

import pytest

import cellex
from cellex_tools import cli

pytestmark = pytest.mark.host_only

ROOT = Path(__file__).resolve().parent.parent
CELLEX = ROOT / ".venv" / "bin" / "cellex"


def test_version_prints_the_runtime_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == "cellex %s\n" % cellex.__version__


def test_help_lists_every_command_with_its_line(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, command in cli.COMMANDS.items():
        assert "  %s " % name in out and command.summary in out


def test_no_command_prints_the_usage_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "usage: cellex <command>" in capsys.readouterr().err


def test_an_unknown_command_exits_2_naming_it_and_the_closest_one(capsys):
    assert cli.main(["moniter", "--port", "x"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'moniter'" in err and "did you mean 'monitor'?" in err


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_every_command_answers_help_with_its_own_options(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([name, "--help"])
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_arguments_after_the_command_reach_its_module(capsys):
    assert cli.main(["deploy", "--board", "NOPE", "--port", "/dev/null"]) == 2
    assert "unknown board 'NOPE'" in capsys.readouterr().err


def test_the_installed_script_exits_2_on_an_unknown_command():
    proc = subprocess.run([str(CELLEX), "flash"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown command 'flash'" in proc.stderr and proc.stdout == ""


def test_output_to_a_reader_that_is_gone_ends_quietly_with_141():
    # As `cellex ... | head` when head has stopped reading: the pipe's read end is closed.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        cmd = [str(CELLEX), "mpy", "--list"]
        proc = subprocess.run(cmd, stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert proc.returncode == 141
    assert proc.stderr == b""


@pytest.mark.parametrize(
    "target, command",
    [
        (["monitor", "PORT=/dev/ttyUSB0"], "cellex monitor --port"),
        (["deploy", "BOARD=VIRTUAL", "PORT=/dev/ttyACM0"], "cellex deploy --board VIRTUAL"),
        (["virtual-board"], "cellex virtual-board"),
        (["test-board", "PORT=/dev/ttyACM0"], "cellex test-board --port /dev/ttyACM0"),
        (["demo"], "cellex demo"),
        (["bench"], "cellex bench"),
        (["firmware", "BOARD=RPI_PICO"], "cellex firmware --board RPI_PICO"),
        (["mpy", "BOARD=PYBV11"], "cellex mpy --board PYBV11 --out build/mpy/PYBV11"),
    ],
)
def test_make_targets_run_the_cellex_command(target, command):
    proc = subprocess.run(
        ["make", "-n", "--no-print-directory", *target], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert ".venv/bin/" + command in proc.stdout


INSTALLED_WORK = {"monitor", "mpy", "deploy", "virtual-board", "demo", "bench"}


def test_outside_a_checkout_only_the_commands_that_need_one_are_refused_each_saying_what_it_uses(
    monkeypatch, capsys
):
    monkeypatch.setattr(cli, "in_checkout", lambda: False)
    assert {name for name, c in cli.COMMANDS.items() if not c.needs_checkout} == INSTALLED_WORK
    for name in INSTALLED_WORK:
        with pytest.raises(SystemExit) as exit_:
            cli.main([name, "--help"])
        assert exit_.value.code == 0, name
    for name, command in cli.COMMANDS.items():
        if name in INSTALLED_WORK:
            continue
        assert cli.main([name]) == 2
        err = capsys.readouterr().err
        assert "cellex %s runs from a checkout of the cellex repository: it uses %s," % (
            name, command.needs_checkout) in err


def test_help_names_the_checkout_only_commands_and_the_extra_for_the_unix_port(capsys):
    assert cli.main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    checkout_only = ", ".join(n for n in cli.COMMANDS if n not in INSTALLED_WORK)
    assert ".venv/bin/cellex there): %s." % checkout_only in out
    assert "virtual-board, demo and bench need the MicroPython unix port" in out
    assert "pipx install '.[virtual]'" in out
