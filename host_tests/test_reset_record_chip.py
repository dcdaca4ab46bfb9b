"""The reset-surviving record on the emulated Pico: RP2040 watchdog SCRATCH0-3 across machine.reset().

The firmware built before cellex.reset_record was frozen may lack it: the module is copied to
the board's filesystem (it needs only the frozen cellex.compat)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from cellex_tools.emulated_board import DEFAULT_FIRMWARE, EmulatedBoard, default_bootrom

pytestmark = [
    pytest.mark.host_only,
    pytest.mark.skipif(
        not DEFAULT_FIRMWARE.is_file(), reason="no RPI_PICO firmware: make firmware BOARD=RPI_PICO"
    ),
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(not default_bootrom().is_file(), reason="no RP2040 boot ROM"),
]

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = str(ROOT / ".venv" / "bin" / "mpremote")
TIMEOUT_S = 120


def mpremote(board, *args):
    proc = subprocess.run(
        [MPREMOTE, "connect", board.console_path, *args], capture_output=True, text=True, timeout=TIMEOUT_S
    )
    return proc.returncode, proc.stdout, proc.stderr


_RECORD = """\
import machine, time
from reset_record import ResetRecord, Rp2ScratchStore
r = ResetRecord(Rp2ScratchStore())
r.boot()
e = ValueError('x')
t0 = time.ticks_us()
for i in range(20):
    r.record_failure(5, e, 2, 77, 4242)
t1 = time.ticks_us()
for i in range(200):
    r.set_running(3)
t2 = time.ticks_us()
print('cost', time.ticks_diff(t1, t0) // 20, time.ticks_diff(t2, t1) // 200)
print([hex(machine.mem32[0x4005800c + 4 * i]) for i in range(8)])
"""

_AFTER = """\
import machine
from reset_record import ResetRecord, Rp2ScratchStore, error_name
print([hex(machine.mem32[0x4005800c + 4 * i]) for i in range(8)])
r = ResetRecord(Rp2ScratchStore())
print(machine.reset_cause() == machine.WDT_RESET, r.boot(), r.boot_count, r.has_failure,
      r.actor_id, error_name(r.error_index), r.stage, r.sequence, r.uptime_ms, r.running_id)
"""


def test_machine_reset_keeps_the_record_in_the_watchdog_scratch_registers(capsys):
    with EmulatedBoard() as board:
        status, out, err = mpremote(board, "fs", "cp", str(ROOT / "firmware" / "cellex" / "reset_record.py"),
                                    ":reset_record.py")  # fmt: skip
        assert status == 0, err
        status, out, err = mpremote(board, "exec", _RECORD)
        assert status == 0, err
        with capsys.disabled():
            print("\nbefore reset:", out.strip())
        before = board.event_count()
        status, _, err = mpremote(board, "reset")
        assert status == 0, err
        board.wait_repl(after=before, timeout=TIMEOUT_S)
        status, out, err = mpremote(board, "exec", _AFTER)
        assert status == 0, err
        with capsys.disabled():
            print("after reset:", out.strip())
        last = out.strip().splitlines()[-1]
        assert last == "True True 1 True 5 ValueError 2 77 4242 3", out


# The cost of keeping the running actor and feeding the watchdog, per dispatch: two actors take
# turns, best of 5 bursts of 64 messages, without and with ActorSystemConfig.with_watchdog(
# wdt=machine.WDT) and a record in SCRATCH0-3. Watched, the scheduler's run() is its watched copy
# (a feed and a store of the running word before each message, a feed and a store of "no actor"
# per run()); unwatched, run() has no watchdog code at all (the "off" figure is plain dispatch).
# The firmware's frozen cellex (make chip-firmware) is what runs.
_DISPATCH = """\
import machine, time
from cellex.actor import Actor
from cellex.config import ActorSystemConfig
from cellex.reset_record import ResetRecord, Rp2ScratchStore
from cellex.system import ActorSystem

class Nop(Actor):
    def receive(self, m):
        pass

def burst(watch):
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=32)
    if watch:
        rec = ResetRecord(Rp2ScratchStore())
        rec.boot()
        cfg.with_reset_record(rec).with_watchdog(8000, wdt=machine.WDT(timeout=8000))
    s = ActorSystem(cfg)
    a = s.spawn(Nop(), 'a')
    b = s.spawn(Nop(), 'b')
    s.start()
    best = 1 << 29
    for _ in range(5):
        t0 = time.ticks_us()
        for i in range(32):
            a.tell(i)
            b.tell(i)
        s.run_until_idle()
        best = min(best, time.ticks_diff(time.ticks_us(), t0))
    return best / 64, rec if watch else None

off, _ = burst(False)
on, rec = burst(True)
t0 = time.ticks_us()
for i in range(200):
    rec.set_running(3)
t1 = time.ticks_us()
print('us per dispatch: off %.1f on %.1f cost %.1f; set_running() %.1f' % (off, on, on - off,
      time.ticks_diff(t1, t0) / 200))
"""


def test_keeping_the_running_actor_and_feeding_the_watchdog_cost_a_few_us_per_dispatch(capsys):
    with EmulatedBoard() as board:
        status, out, err = mpremote(board, "exec", _DISPATCH)
        assert status == 0, err
        with capsys.disabled():
            print("\nemulated Pico:", out.strip())
        words = out.split()
        cost = float(words[words.index("cost") + 1].rstrip(";"))
        # 9-12 us: the watched run() copy (a per-actor receive() wrapper measured 22 us; set_running()
        # before: 64 us and a 32-byte big int per call)
        assert cost < 18, out
