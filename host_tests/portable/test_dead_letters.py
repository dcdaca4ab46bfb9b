# Dead letters you can watch (cellex.dead_letters): a hook sees each one (to whom, why),
# rate-limited so a storm cannot starve the system; the counts stay exact; no allocation.
from cellex.actor import Actor
from cellex.ask import Call
from cellex.config import ActorSystemConfig
from cellex.dead_letters import ACTOR_STOPPED, LATE_REPLY, MAILBOX_FULL
from cellex.system import ActorSystem
from support import GROSS, FakeClock, assert_no_alloc, assert_no_gross_alloc, assert_raises


class Idle(Actor):
    """Takes messages and does nothing with them."""


class Watcher(Actor):
    """An actor that sees dead letters: the hook tells it each reason (a small int)."""

    def __init__(self):
        self.reasons = [0, 0, 0, 0, 0]

    def receive(self, msg):
        GROSS.sample()
        self.reasons[msg] += 1


class Log:
    """A hook that keeps what it is shown (allocates: not for no-allocation tests)."""

    def __init__(self):
        self.seen = []

    def __call__(self, to, msg, reason):
        self.seen.append((to, msg, reason))


def _system(clock=None, mailbox_capacity=2):
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=mailbox_capacity)
    if clock is not None:
        cfg.with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    ref = system.spawn(Idle(), "idle")
    return system, ref


def test_the_hook_sees_a_full_mailbox_with_whom_and_why():
    system, ref = _system()
    system.start()
    log = Log()
    system.dead_letters.watch(log)
    ref.tell(1)
    ref.tell(2)
    assert ref.tell(3) is False
    assert log.seen == [(ref, 3, MAILBOX_FULL)]


def test_the_hook_sees_a_tell_to_a_stopped_actor():
    system, ref = _system()
    system.start()
    ref.stop()
    log = Log()
    system.dead_letters.watch(log)
    ref.tell("late")
    assert log.seen == [(ref, "late", ACTOR_STOPPED)]


def test_the_hook_sees_each_message_left_waiting_when_an_actor_stops():
    system, ref = _system()
    system.start()
    log = Log()
    system.dead_letters.watch(log)
    ref.tell("a")
    ref.tell("b")
    ref.stop()
    assert log.seen == [(ref, "a", ACTOR_STOPPED), (ref, "b", ACTOR_STOPPED)]
    assert ref.dead_letters == 2 and system.counters.dead_letters == 2


def test_the_hook_sees_a_late_reply_addressed_to_its_asker():
    clock = FakeClock(0)
    system, ref = _system(clock)
    asker = Idle()
    aref = system.spawn(asker, "asker")
    call = Call(asker)
    system.start()
    log = Log()
    system.dead_letters.watch(log)
    token = system.ask(ref, call, "ping", 5)
    system.run_until_idle()
    clock.advance(5)
    system.run_until_idle()
    system.reply(token, "pong")
    assert log.seen == [(aref, "pong", LATE_REPLY)]


def test_counts_are_kept_by_reason_and_add_up_to_the_system_counter():
    clock = FakeClock(0)
    system, ref = _system(clock)
    asker = Idle()
    system.spawn(asker, "asker")
    call = Call(asker)
    system.start()
    token = system.ask(ref, call, "ping", 0)  # expires in the mailbox
    system.run_until_idle()
    system.reply(token, "pong")  # late
    ref.tell(1)
    ref.tell(2)
    ref.tell(3)  # full
    ref.stop()  # 1 and 2 left waiting
    ref.tell(4)  # stopped
    d = system.dead_letters
    assert (d.mailbox_full, d.actor_stopped, d.late_replies, d.expired) == (1, 3, 1, 1)
    assert d.count == 6 and system.counters.dead_letters == 6


def _watched_full(burst, per_ms):
    # A Log watching (burst per per_ms) an actor whose two-slot mailbox is full: each tell is a dead letter.
    clock = FakeClock(0)
    system, ref = _system(clock)
    system.start()
    log = Log()
    system.dead_letters.watch(log, burst, per_ms)
    ref.tell(0)
    ref.tell(0)
    return clock, system, ref, log


def test_a_storm_is_rate_limited_and_the_count_stays_exact():
    clock, system, ref, log = _watched_full(4, 100)
    for i in range(1000):
        ref.tell(i)
    d = system.dead_letters
    assert len(log.seen) == 4 and [m for _, m, _ in log.seen] == [0, 1, 2, 3]
    assert d.count == 1000 and d.watched == 4 and d.unwatched == 996
    assert ref.dead_letters == 1000 and system.counters.dead_letters == 1000


def test_the_hook_sees_dead_letters_again_in_the_next_window():
    clock, system, ref, log = _watched_full(2, 100)
    for i in range(5):
        ref.tell(i)
    clock.advance(99)
    ref.tell(5)
    clock.advance(1)
    ref.tell(6)
    ref.tell(7)
    ref.tell(8)
    assert [m for _, m, _ in log.seen] == [0, 1, 6, 7]


def test_a_hook_that_raises_is_counted_and_delivery_goes_on():
    system, ref = _system()
    system.start()

    def broken(to, msg, reason):
        raise ValueError("hook")

    system.dead_letters.watch(broken)
    ref.tell(1)
    ref.tell(2)
    assert ref.tell(3) is False
    assert system.dead_letters.hook_errors == 1 and system.dead_letters.count == 1
    assert system.run_until_idle() == 2


def test_a_dead_letter_made_inside_the_hook_is_counted_not_watched():
    system, ref = _system()
    system.start()
    log = Log()

    def echo(to, msg, reason):
        log(to, msg, reason)
        to.tell(msg)  # the mailbox is still full: another dead letter

    system.dead_letters.watch(echo)
    ref.tell(1)
    ref.tell(2)
    ref.tell(3)
    d = system.dead_letters
    assert len(log.seen) == 1 and d.count == 2 and d.unwatched == 1


def test_an_actor_can_watch_dead_letters_through_the_hook():
    system, ref = _system()
    watcher = Watcher()
    wref = system.spawn(watcher, "watcher", mailbox_capacity=8)
    system.start()
    system.dead_letters.watch(lambda to, msg, reason: wref.tell(reason))
    ref.tell(1)
    ref.tell(2)
    ref.tell(3)
    ref.stop()
    system.run_until_idle()
    assert watcher.reasons[MAILBOX_FULL] == 1 and watcher.reasons[ACTOR_STOPPED] == 2


def test_watch_needs_a_positive_burst_and_window():
    system, ref = _system()
    assert_raises(ValueError, system.dead_letters.watch, print, 0, 100)
    assert_raises(ValueError, system.dead_letters.watch, print, 1, 0)


def test_watching_stops_with_a_none_hook():
    system, ref = _system()
    system.start()
    log = Log()
    system.dead_letters.watch(log)
    system.dead_letters.watch(None)
    ref.tell(1)
    ref.tell(2)
    ref.tell(3)
    assert log.seen == [] and system.dead_letters.count == 1


# -- no allocation ---------------------------------------------------------------


def test_gross_a_watched_dead_letter_takes_no_block():
    system, ref = _system(mailbox_capacity=1)
    watcher = Watcher()
    wref = system.spawn(watcher, "watcher", mailbox_capacity=8)
    system.start()
    wtell = wref.tell

    def hook(to, msg, reason):
        wtell(reason)

    system.dead_letters.watch(hook, 1000, 1000)
    tell = ref.tell
    run = system.run_until_idle
    ref.stop()

    def dead_letter():
        tell(1)
        run()

    assert assert_no_gross_alloc(dead_letter) >= 1  # sampled in the watcher
    assert_no_alloc(dead_letter)
    assert watcher.reasons[ACTOR_STOPPED] >= 3


def test_gross_a_rate_limited_storm_takes_no_block():
    system, ref = _system(mailbox_capacity=1)
    system.start()
    system.dead_letters.watch(Log(), 1, 1 << 20)
    tell = ref.tell
    tell(0)
    tell(0)  # the one watched dead letter: the rest are counted only

    def storm():
        for i in range(100):
            tell(i)

    assert_no_gross_alloc(storm)
    assert_no_alloc(storm)
    assert system.dead_letters.unwatched >= 300


def test_gross_stopping_an_actor_with_waiting_mail_takes_no_block():
    system = ActorSystem(ActorSystemConfig(max_actors=3, mailbox_capacity=4))
    first = system.spawn(Idle(), "first")
    ref = system.spawn(Idle(), "x")
    system.start()
    system.dead_letters.watch(lambda to, msg, reason: None)
    first.tell(1)
    first.stop()  # the same path once, so the check below sees no first-call caches
    ref.tell(1)
    ref.tell(2)
    assert_no_gross_alloc(ref.stop, warm=0)
    assert system.dead_letters.actor_stopped == 3 and system.dead_letters.watched == 3
