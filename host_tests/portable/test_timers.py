# Timers (send_after / send_every / cancel), the run_forever() loop and its idle hook:
# deadlines from an injected clock, across the ticks_ms wrap, and with no allocation.
from actors import FAIL, Recorder
from cellex.actor import Actor
from cellex.actor_ref import PAUSED, RUNNING, STOPPED
from cellex.compat import ticks_add, ticks_diff
from cellex.config import ActorSystemConfig
from cellex.supervision import RESTART, STOP, SupervisorStrategy
from cellex.system import ActorSystem
from cellex.timers import TIMERS_FULL
from support import GROSS, FakeClock, assert_no_alloc, assert_no_gross_alloc, assert_raises

TICK = "tick"


class WrapClock(FakeClock):
    """A FakeClock that wraps like ticks_ms (period 2**30)."""

    def advance(self, ms):
        self.now = ticks_add(self.now, ms)


class Ticks(Actor):
    """Counts messages and keeps the clock time of the last one (allocates nothing)."""

    def __init__(self, clock=None):
        self.clock = clock
        self.n = 0
        self.last = -1
        self.restarted = 0
        self.stop_after = -1

    def receive(self, msg):
        GROSS.sample()
        if msg is FAIL:
            raise support_boom()
        self.n += 1
        if self.clock is not None:
            self.last = self.clock.now
        if self.n == self.stop_after:
            self.system.stop()

    def on_restart(self):
        self.restarted += 1


def support_boom():
    from actors import BOOM

    return BOOM


def _system(clock, timer_slots=4, max_actors=4, strategy=None):
    cfg = ActorSystemConfig(max_actors=max_actors, timer_slots=timer_slots, guardian_strategy=strategy)
    cfg.with_clock(clock.ticks_ms)
    return ActorSystem(cfg)


def _advance_and_run(system, clock, ms, step=1):
    for _ in range(ms // step):
        clock.advance(step)
        system.run_until_idle()


# -- send_after / send_every -------------------------------------------------


def test_send_after_delivers_once_when_the_delay_has_passed():
    clock = FakeClock(1000)
    system = _system(clock)
    rec = Recorder()
    ref = system.spawn(rec, "a")
    system.start()
    h = system.send_after(ref, "hello", 50)
    assert h > 0 and system.timers.armed == 1
    _advance_and_run(system, clock, 49)
    assert rec.got == []
    _advance_and_run(system, clock, 1)
    assert rec.got == ["hello"]
    _advance_and_run(system, clock, 200, 10)
    assert rec.got == ["hello"] and system.timers.armed == 0
    assert system.counters.timer_fires == 1
    assert system.cancel(h) is False  # it fired already


def test_send_after_zero_fires_on_the_next_turn():
    clock = FakeClock()
    system = _system(clock)
    rec = Recorder()
    ref = system.spawn(rec, "a")
    system.start()
    system.send_after(ref, 1, 0)
    system.run_until_idle()
    assert rec.got == [1]


def test_send_every_keeps_its_phase_when_the_loop_is_late():
    # Deadlines at 10, 20, 30, ...: the loop looks at the clock at odd times,
    # late by 1..7 ms, and each tick still lands on a multiple of 10 (no drift).
    clock = FakeClock(0)
    system = _system(clock)
    t = Ticks(clock)
    ref = system.spawn(t, "t")
    system.start()
    system.send_every(ref, TICK, 10)
    due = []
    lateness = (3, 7, 1, 5, 2, 6, 4, 0, 7, 3)
    for k, late in enumerate(lateness):
        clock.now = (k + 1) * 10 + late
        system.run_until_idle()
        due.append(system.deadlines.next)
    assert t.n == len(lateness)
    assert due == [(k + 2) * 10 for k in range(len(lateness))]
    assert system.counters.timer_overruns == 0


def test_a_loop_late_by_whole_periods_skips_ticks_counts_them_and_keeps_the_phase():
    clock = FakeClock(0)
    system = _system(clock)
    t = Ticks(clock)
    ref = system.spawn(t, "t")
    system.start()
    system.send_every(ref, TICK, 10)
    clock.now = 10
    system.run_until_idle()
    clock.now = 45  # 20, 30 and 40 were due: one message, 2 ticks skipped
    system.run_until_idle()
    assert t.n == 2 and system.counters.timer_overruns == 2
    assert system.deadlines.next == 50


def test_send_every_first_delay_can_differ_from_the_period():
    clock = FakeClock(0)
    system = _system(clock)
    t = Ticks(clock)
    ref = system.spawn(t, "t")
    system.start()
    system.send_every(ref, TICK, 100, 0)
    system.run_until_idle()
    assert t.n == 1 and system.deadlines.next == 100


def test_timers_work_across_the_ticks_wrap():
    start = ticks_add(0, -25)  # 25 ms before ticks_ms wraps to 0
    clock = WrapClock(start)
    system = _system(clock)
    t = Ticks(clock)
    once = Recorder()
    ref = system.spawn(t, "t")
    oref = system.spawn(once, "once")
    system.start()
    system.send_every(ref, TICK, 10)
    system.send_after(oref, "after-wrap", 30)
    seen = []
    for _ in range(60):
        clock.advance(1)
        before = t.n
        system.run_until_idle()
        if t.n != before:
            seen.append(ticks_diff(clock.now, start))
    assert seen == [10, 20, 30, 40, 50, 60]
    assert once.got == ["after-wrap"]
    assert clock.now < start  # the clock did wrap


def test_cancel_stops_a_periodic_timer_and_a_stale_handle_cancels_nothing():
    clock = FakeClock(0)
    system = _system(clock, timer_slots=1)
    t = Ticks(clock)
    ref = system.spawn(t, "t")
    system.start()
    old = system.send_every(ref, TICK, 10)
    _advance_and_run(system, clock, 25)
    assert t.n == 2
    assert system.cancel(old) is True and system.cancel(old) is False
    _advance_and_run(system, clock, 50)
    assert t.n == 2
    new = system.send_every(ref, TICK, 10)  # the same (only) slot, a new generation
    assert new != old and (new & 0xFF) == (old & 0xFF)
    assert system.cancel(old) is False  # stale: the new timer keeps running
    _advance_and_run(system, clock, 20)
    assert t.n == 4 and system.timers.is_armed(new)
    assert system.cancel(0) is False and system.cancel(-1) is False and system.cancel(12345) is False


def test_running_out_of_timer_slots_raises_a_clear_error_and_is_counted():
    clock = FakeClock(0)
    system = _system(clock, timer_slots=2)
    ref = system.spawn(Recorder(), "a")
    system.start()
    a = system.send_after(ref, 1, 10)
    system.send_every(ref, 2, 10)
    e = assert_raises(RuntimeError, system.send_after, ref, 3, 10)
    assert e is TIMERS_FULL and "timer_slots" in str(e)
    assert system.counters.timers_full == 1
    system.cancel(a)
    system.send_after(ref, 3, 10)  # a slot is free again


def test_bad_delays_and_stopped_actors_are_refused():
    clock = FakeClock(0)
    system = _system(clock)
    ref = system.spawn(Recorder(), "a")
    system.start()
    assert_raises(ValueError, system.send_after, ref, 1, -1)
    assert_raises(ValueError, system.send_every, ref, 1, 0)
    assert_raises(ValueError, system.send_after, ref, 1, 1 << 29)
    system._stop(ref)
    assert_raises(ValueError, system.send_after, ref, 1, 10)
    assert system.timers.armed == 0


def test_a_timer_armed_in_receive_fires_later():
    clock = FakeClock(0)
    system = _system(clock)

    class Rearm(Actor):
        def __init__(self):
            self.n = 0

        def receive(self, msg):
            self.n += 1
            if self.n < 3:
                self.system.send_after(self.ref, msg, 5)

    r = Rearm()
    ref = system.spawn(r, "r")
    system.start()
    ref.tell(0)
    system.run_until_idle()
    _advance_and_run(system, clock, 20)
    assert r.n == 3 and system.timers.armed == 0


def test_a_full_mailbox_makes_a_timer_message_a_dead_letter():
    clock = FakeClock(0)
    cfg = ActorSystemConfig(max_actors=1, mailbox_capacity=1).with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    ref = system.spawn(Recorder(), "a")
    system.start()
    ref.tell(0)  # fills the mailbox
    system.send_after(ref, 1, 0)
    system.run_until_idle()  # the timer fires before the first turn: the mailbox is full
    assert ref.dead_letters == 1 and system.counters.timer_fires == 1


# -- timers and the actor's life: decided as Erlang/Akka for stop, in place for restart


def test_an_actors_timers_survive_its_restart():
    clock = FakeClock(0)
    system = _system(clock, strategy=SupervisorStrategy(RESTART, max_restarts=5))
    t = Ticks(clock)
    ref = system.spawn(t, "t")
    system.start()
    h = system.send_every(ref, TICK, 10)
    _advance_and_run(system, clock, 10)
    ref.tell(FAIL)
    system.run_until_idle()
    assert t.restarted == 1 and ref.state == RUNNING
    _advance_and_run(system, clock, 20)
    assert t.n == 3 and system.timers.is_armed(h)


def test_on_restart_can_cancel_the_actors_timers():
    clock = FakeClock(0)
    system = _system(clock, strategy=SupervisorStrategy(RESTART, max_restarts=5))

    class Fresh(Ticks):
        def on_restart(self):
            self.restarted += 1
            self.cancelled = self.system.cancel_timers(self.ref)

    t = Fresh(clock)
    ref = system.spawn(t, "t")
    system.start()
    system.send_every(ref, TICK, 10)
    system.send_after(ref, TICK, 100)
    ref.tell(FAIL)
    system.run_until_idle()
    assert t.cancelled == 2 and system.timers.armed == 0 and system.deadlines.armed == 0


def test_while_an_actor_waits_out_a_backoff_its_timer_messages_wait_in_its_mailbox():
    clock = FakeClock(0)
    strategy = SupervisorStrategy(RESTART, max_restarts=5, backoff_min_ms=100, backoff_max_ms=100)
    system = _system(clock, strategy=strategy)
    t = Ticks(clock)
    ref = system.spawn(t, "t")
    system.start()
    system.send_every(ref, TICK, 10)
    ref.tell(FAIL)
    system.run_until_idle()
    assert ref.state == PAUSED
    _advance_and_run(system, clock, 50)
    assert t.n == 0 and ref.pending == 5
    _advance_and_run(system, clock, 50)
    # 10 ticks while paused; the mailbox (8 slots) kept 8, 2 became dead letters
    assert ref.state == RUNNING and t.n == 8 and ref.dead_letters == 2


def test_stopping_an_actor_cancels_its_timers_and_only_its_own():
    clock = FakeClock(0)
    system = _system(clock, strategy=SupervisorStrategy(STOP))
    t = Ticks(clock)
    other = Ticks(clock)
    ref = system.spawn(t, "t")
    oref = system.spawn(other, "o")
    system.start()
    h1 = system.send_every(ref, TICK, 10)
    h2 = system.send_after(ref, TICK, 50)
    ho = system.send_every(oref, TICK, 10)
    ref.tell(FAIL)  # STOP
    system.run_until_idle()
    assert ref.state == STOPPED
    assert not system.timers.is_armed(h1) and not system.timers.is_armed(h2)
    assert system.timers.is_armed(ho) and system.timers.armed == 1
    _advance_and_run(system, clock, 30)
    assert t.n == 0 and other.n == 3 and ref.dead_letters == 0


# -- cost: a fire walks the armed deadlines, not the actors --------------------


def test_a_timer_fire_does_not_walk_every_actor():
    clock = FakeClock(0)
    system = _system(clock, max_actors=64, timer_slots=2)
    refs = [system.spawn(Ticks(clock), "a%d" % i) for i in range(64)]
    system.start()
    system.send_every(refs[63], TICK, 10)
    assert system.deadlines.armed == 1 and system.deadlines._list[0] == 64


# -- run_forever: sleeps until the next deadline, counts idle time --------------


def test_run_forever_sleeps_until_each_deadline_and_counts_idle_time():
    clock = FakeClock(0)
    system = _system(clock)
    t = Ticks(clock)
    t.stop_after = 5
    ref = system.spawn(t, "t")
    system.start()
    system.send_every(ref, TICK, 20)
    asked = []

    def idle(ms):
        asked.append(ms)
        clock.advance(ms)

    system.run_forever(idle)
    assert t.n == 5 and t.last == 100
    assert asked == [20, 20, 20, 20, 20]
    assert system.counters.idle_ms == 100 and system.counters.loop_ms == 100


def test_run_forever_with_nothing_armed_passes_minus_one_and_stop_from_the_hook_ends_it():
    clock = FakeClock(0)
    system = _system(clock)
    system.spawn(Recorder(), "a")
    system.start()
    asked = []

    def idle(ms):
        asked.append(ms)
        clock.advance(3)
        if len(asked) == 3:
            system.stop()

    system.run_forever(idle)
    assert asked == [-1, -1, -1] and system.counters.idle_ms == 9


def test_run_forever_with_the_default_idle_hook_on_the_real_clock():
    system = ActorSystem(ActorSystemConfig(max_actors=2))
    t = Ticks()
    t.stop_after = 3
    ref = system.spawn(t, "t")
    system.start()
    system.send_every(ref, TICK, 5)
    system.run_forever()
    c = system.counters
    assert t.n == 3 and c.loop_ms >= 5 and 0 <= c.idle_ms <= c.loop_ms


def test_gross_a_timer_firing_takes_no_block():
    clock = FakeClock(0)
    system = _system(clock)
    t = Ticks(clock)
    ref = system.spawn(t, "t")
    system.start()
    system.send_every(ref, TICK, 10)
    run = system.run_until_idle

    def fire():
        clock.now += 10
        run()

    assert assert_no_gross_alloc(fire) >= 1  # sampled inside receive()
    assert_no_alloc(fire)
    assert t.n >= 3


def test_gross_arming_and_cancelling_take_no_block():
    clock = FakeClock(0)
    system = _system(clock)
    ref = system.spawn(Ticks(clock), "t")
    system.start()
    send_after = system.send_after
    send_every = system.send_every
    cancel = system.cancel

    def arm_cancel():
        a = send_after(ref, TICK, 10)
        b = send_every(ref, TICK, 10)
        cancel(a)
        cancel(b)

    assert_no_gross_alloc(arm_cancel)
    assert_no_alloc(arm_cancel)
    assert system.timers.armed == 0


def test_gross_the_idle_loop_takes_no_block():
    clock = FakeClock(0)
    system = _system(clock)
    t = Ticks(clock)
    ref = system.spawn(t, "t")
    system.start()
    system.send_every(ref, TICK, 10)
    system.send_every(ref, TICK, 7)
    state = [0]  # made before the check

    def idle(ms):
        GROSS.sample()
        clock.now += ms
        state[0] += 1
        if state[0] == 20:
            state[0] = 0
            system.stop()

    run_forever = system.run_forever

    def loop():
        run_forever(idle)

    assert assert_no_gross_alloc(loop) >= 20
    assert_no_alloc(loop)
    assert t.n > 0
