"""Timer and interrupt-post figures measured on a board (or the emulated Pico), with cellex frozen in.

    python -m tools.bench_timers_board [--port /dev/ttyACM0]   (default: start the emulated Pico)

Prints: tell + run with 0 / 1 / 32 timers armed and with 64 actors, a timer
fire + its dispatch, post() + run, and the latency from a machine.Timer(hard=True)
interrupt's post() to receive() (ticks_us, mean and max over the run).
Not a timed test: numbers to read.
"""

import argparse
import sys

# Runs on the board: MicroPython, cellex frozen into the firmware.
BODY = r"""
import gc, time
from machine import Timer
from cellex.actor import Actor
from cellex.config import ActorSystemConfig
from cellex.system import ActorSystem

class Sink(Actor):
    def receive(self, m):
        pass

class Clock:
    def __init__(self):
        self.t = 0
    def ticks_ms(self):
        return self.t

def mk(actors, armed):
    c = Clock()
    s = ActorSystem(ActorSystemConfig(max_actors=actors, timer_slots=32).with_clock(c.ticks_ms))
    refs = [s.spawn(Sink(), "a%d" % i) for i in range(actors)]
    s.start()
    for i in range(armed):
        s.send_every(refs[i % actors], i, 1 << 27)
    return s, refs, c

def per(fn, n):
    gc.collect()
    t0 = time.ticks_us()
    fn(n)
    return time.ticks_diff(time.ticks_us(), t0) / n

def one(s, ref):
    tell = ref.tell
    run = s.run_until_idle
    def f(n):
        for i in range(n):
            tell(i)
            run()
    return f

N = 300
out = {}
for k in (0, 1, 32):
    s, refs, c = mk(4, k)
    out["turn_timers_%d" % k] = per(one(s, refs[0]), N)
s, refs, c = mk(64, 8)
out["turn_actors_64_timers_8"] = per(one(s, refs[63]), N)
for actors in (4, 64):
    s, refs, c = mk(actors, 0 if actors == 4 else 8)
    s.send_every(refs[-1], 1, 1)
    run = s.run_until_idle
    def fire(n, c=c, run=run):
        for _ in range(n):
            c.t += 1
            run()
    out["timer_fire_%d" % actors] = per(fire, N)
s, refs, c = mk(4, 0)
post = s.post
ref = refs[0]
run = s.run_until_idle
def posted(n):
    for i in range(n):
        post(ref, i)
        run()
out["post_1"] = per(posted, N)

# Hard interrupt -> receive() latency, the system sleeping in run_forever().
class Lat(Actor):
    def __init__(self, st):
        self.st = st
        self.n = 0
        self.total = 0
        self.max = 0
    def receive(self, m):
        d = time.ticks_diff(time.ticks_us(), self.st[0])
        self.total += d
        if d > self.max:
            self.max = d
        self.n += 1
        if self.n == 50:
            self.system.stop()
st = [0]
s = ActorSystem(ActorSystemConfig(max_actors=2))
lat = Lat(st)
r = s.spawn(lat, "lat")
s.start()
p = s.post
def isr(t):
    st[0] = time.ticks_us()
    p(r, 1)
t = Timer(mode=Timer.PERIODIC, period=10, callback=isr, hard=True)
try:
    s.run_forever()
finally:
    t.deinit()
out["irq_to_receive_mean_us"] = lat.total / lat.n
out["irq_to_receive_max_us"] = lat.max
out["idle_pct"] = 100 * s.counters.idle_ms / s.counters.loop_ms
for k in sorted(out):
    print("%-28s %10.1f" % (k, out[k]))
"""


def main(argv=None):
    doc = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m tools.bench_timers_board", description=doc)
    parser.add_argument("--port", help="a board's serial port (default: start the emulated Pico)")
    args = parser.parse_args(argv)
    from tools.board_session import BoardSession

    board = None
    port = args.port
    if port is None:
        from tools.emulated_board import EmulatedBoard

        board = EmulatedBoard()
        board.start()
        port = board.console_path
    try:
        session = BoardSession(port, timeout_s=300)
        session.connect()
        try:
            print(session._exec(BODY, timeout=300))
        finally:
            session.close()
    finally:
        if board is not None:
            board.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
