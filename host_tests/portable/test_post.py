# post(): messages from interrupt handlers through a preallocated ring guarded by
# disable_irq() / enable_irq(), drained by the scheduler; simulated preemption on
# the host, a real machine.Timer(hard=True) on a board; and run_async() beside asyncio.
import sys

from cellex.actor import Actor
from cellex.compat import ticks_ms
from cellex.config import ActorSystemConfig
from cellex.system import ActorSystem
from support import GROSS, MICROPYTHON, FakeClock, assert_no_alloc, assert_no_gross_alloc, skip

if MICROPYTHON:
    import micropython
else:
    micropython = None


def _budget(seconds):
    import support

    mark = getattr(support, "board_budget", None)
    return mark(seconds) if mark is not None else (lambda fn: fn)


class Seq(Actor):
    """Checks that messages (ints) arrive in increasing order; allocates nothing."""

    def __init__(self):
        self.n = 0
        self.last = 0
        self.out_of_order = 0
        self.stop_after = -1

    def receive(self, msg):
        GROSS.sample()
        if msg <= self.last:
            self.out_of_order += 1
        self.last = msg
        self.n += 1
        if self.n == self.stop_after:
            self.system.stop()


class FakeIrq:
    """disable_irq / enable_irq for the host. An interrupt raised while masked is
    pending and runs when enable_irq() unmasks, as on the chip. On MicroPython
    the critical section holds the heap lock, so anything allocating in it fails."""

    def __init__(self):
        self.masked = False
        self.isr = None
        self.fire_on_unmask = 0  # run the ISR at this many unmasks (preemption right after)
        self.sections = 0
        self.in_isr = False

    def disable_irq(self):
        assert not self.masked, "critical sections do not nest here"
        self.masked = True
        self.sections += 1
        if MICROPYTHON:
            micropython.heap_lock()
        return 1

    def enable_irq(self, state):
        if MICROPYTHON:
            micropython.heap_unlock()
        self.masked = False
        if self.fire_on_unmask and self.isr is not None and not self.in_isr:
            self.fire_on_unmask -= 1
            self.in_isr = True
            self.isr()
            self.in_isr = False


def _system(irq=None, post_slots=8, clock=None):
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=64, post_slots=post_slots)
    if irq is not None:
        cfg.with_irq(irq.disable_irq, irq.enable_irq)
    if clock is not None:
        cfg.with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    seq = Seq()
    ref = system.spawn(seq, "seq")
    return system, seq, ref


def test_posts_are_delivered_in_order_on_the_next_run():
    system, seq, ref = _system()
    system.start()
    for i in range(1, 6):
        assert system.post(ref, i) is True
    assert ref.pending == 0 and system.posts.count == 5
    system.run_until_idle()
    assert seq.n == 5 and seq.out_of_order == 0 and system.counters.posts == 5


def test_a_full_ring_drops_and_counts():
    system, seq, ref = _system(post_slots=3)
    system.start()
    accepted = [system.post(ref, i) for i in range(1, 6)]
    assert accepted == [True, True, True, False, False]
    assert system.counters.posts_dropped == 2 and system.posts.high_water == 3
    system.run_until_idle()
    assert seq.n == 3


def test_a_post_during_a_run_is_drained_when_the_queue_empties():
    system, seq, ref = _system()

    class Poster(Actor):
        def receive(self, msg):
            self.system.post(ref, msg)  # as an interrupt arriving mid-run would

    p = system.spawn(Poster(), "p")
    system.start()
    p.tell(7)
    assert system.run_until_idle() == 2 and seq.n == 1


def _preempted_run(irq, system, ref, attempts):
    # The ISR posts an increasing sequence; it preempts right after each
    # critical section (masked, then unmasked with the interrupt pending).
    state = [0, 0]  # [posted, accepted]
    post = system.post

    def isr():
        for _ in range(2):  # two posts per interrupt: faster than the drain
            if state[0] < attempts:
                state[0] += 1
                if post(ref, state[0]):
                    state[1] += 1

    irq.isr = isr
    # Interrupts between runs, and inside the drain (each unmask).
    while state[0] < attempts:
        isr()
        isr()
        irq.fire_on_unmask = 3
        system.run_until_idle()
    irq.fire_on_unmask = 0
    system.run_until_idle()
    return state[1]


def test_simulated_preemption_at_every_unmask_loses_nothing_and_keeps_order():
    irq = FakeIrq()
    system, seq, ref = _system(irq, post_slots=4)
    system.start()
    accepted = _preempted_run(irq, system, ref, 200)
    c = system.counters
    assert seq.out_of_order == 0 and seq.n == accepted == c.posts
    assert c.posts + c.posts_dropped == 200 and c.posts_dropped > 0
    assert not irq.masked and irq.sections > 200


def test_simulated_preemption_at_every_line_of_post_and_drain():
    # CPython: sys.settrace runs the ISR at every line of the ring's code
    # while interrupts are unmasked (the unix port has no settrace).
    if not hasattr(sys, "settrace"):
        skip("sys.settrace is not in this MicroPython build; the unmask test covers it")
    irq = FakeIrq()
    system, seq, ref = _system(irq, post_slots=4)
    system.start()
    code = (type(system.posts).post.__code__, type(system.posts).drain.__code__)
    state = [0, 0, False]
    post = system.post

    def isr():
        if state[0] < 300 and not state[2]:
            state[2] = True
            state[0] += 1
            if post(ref, state[0]):
                state[1] += 1
            state[2] = False

    def local(frame, event, arg):
        if event == "line" and not irq.masked:
            isr()
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code in code else None

    sys.settrace(tracer)
    try:
        while state[0] < 300:
            isr()
            system.run_until_idle()
    finally:
        sys.settrace(None)
    system.run_until_idle()
    c = system.counters
    assert seq.out_of_order == 0 and seq.n == state[1] == c.posts
    assert c.posts + c.posts_dropped == 300


def test_a_post_wakes_the_sleeping_loop():
    clock = FakeClock(0)
    system, seq, ref = _system(clock=clock)
    seq.stop_after = 3
    system.start()
    asked = []
    post = system.post

    def idle(ms):
        # An interrupt arrives while the loop sleeps: the hook returns.
        asked.append(ms)
        clock.advance(4)
        post(ref, len(asked))

    system.run_forever(idle)
    assert seq.n == 3 and asked == [-1, -1, -1]
    assert system.counters.idle_ms == 12


def test_gross_post_and_drain_take_no_block():
    irq = FakeIrq()
    system, seq, ref = _system(irq)
    system.start()
    post = system.post
    run = system.run_until_idle

    def post_and_run():
        post(ref, seq.last + 1)
        post(ref, seq.last + 2)
        run()

    assert assert_no_gross_alloc(post_and_run) >= 2
    assert_no_alloc(post_and_run)
    assert seq.out_of_order == 0


# -- a real hard interrupt (a board: pytest --board ... --interp board) ---------------


def _hard_timer():
    try:
        from machine import Timer
    except ImportError:
        skip("no machine.Timer on this port (the unix port): the simulated tests cover it")
    return Timer


class Busy(Actor):
    """Keeps the scheduler busy so the interrupt lands mid-update."""

    def receive(self, msg):
        if msg:
            self.ref.tell(msg - 1)


@_budget(60)
def test_posts_from_a_hard_timer_interrupt_arrive_in_order_while_the_scheduler_runs():
    Timer = _hard_timer()
    system, seq, ref = _system(post_slots=4)
    busy = system.spawn(Busy(), "busy")
    system.start()
    state = [0]  # posted
    post = system.post

    def isr(t):
        state[0] += 1
        post(ref, state[0])

    t = Timer(mode=Timer.PERIODIC, period=2, callback=isr, hard=True)
    try:
        start = ticks_ms()
        while state[0] < 100 and ticks_ms() - start < 20000:
            busy.tell(50)
            system.run_until_idle()
    finally:
        t.deinit()
    system.run_until_idle()
    c = system.counters
    assert state[0] >= 100, "the timer interrupt did not run"
    assert seq.out_of_order == 0 and seq.n == c.posts
    assert c.posts + c.posts_dropped == state[0]


@_budget(60)
def test_run_forever_sleeps_and_a_hard_interrupt_post_wakes_it():
    Timer = _hard_timer()
    system, seq, ref = _system()
    seq.stop_after = 20
    system.start()
    state = [0]
    post = system.post

    def isr(t):
        state[0] += 1
        post(ref, state[0])

    t = Timer(mode=Timer.PERIODIC, period=5, callback=isr, hard=True)
    try:
        system.run_forever()  # the default idle hook: machine.idle() until an interrupt
    finally:
        t.deinit()
    c = system.counters
    assert seq.n == 20 and seq.out_of_order == 0
    assert c.idle_ms > 0 and c.loop_ms >= 20 * 5 - 10


# -- beside asyncio -----------------------------------------------------------------


def test_run_async_runs_timers_and_gets_results_back_from_a_coroutine():
    if MICROPYTHON and ".frozen" not in sys.path:
        sys.path.append(".frozen")  # MICROPYPATH replaces the default path, which holds asyncio
    try:
        import asyncio
    except ImportError:
        skip("no asyncio in this build")

    class Asker(Actor):
        def __init__(self):
            self.results = []
            self.ticks = 0

        def receive(self, msg):
            if msg == "tick":
                self.ticks += 1
                asyncio.create_task(self.work(self.ticks))  # hand work to a coroutine
            else:
                self.results.append(msg)  # ("double", n) back from the coroutine
                if len(self.results) == 3:
                    self.system.stop()

        async def work(self, n):
            await asyncio.sleep(0.002)
            self.system.post(self.ref, ("double", 2 * n))

    system = ActorSystem(ActorSystemConfig(max_actors=2))
    asker = Asker()
    ref = system.spawn(asker, "asker")
    system.start()
    h = system.send_every(ref, "tick", 5)
    other = [0]

    async def driver():  # an asyncio "driver" beside the actors
        while system.counters.loop_ms == 0 or other[0] < 1000:
            other[0] += 1
            await asyncio.sleep(0.001)
            if asker.results and len(asker.results) == 3:
                break

    async def main():
        d = asyncio.create_task(driver())
        await system.run_async()
        system.cancel(h)
        await d

    asyncio.run(main())
    assert asker.results == [("double", 2), ("double", 4), ("double", 6)]
    assert other[0] > 3  # the driver ran while the system waited
    assert system.posts.waker is not None and system.counters.idle_ms > 0
