# Deferral (cellex.stash): an actor sets messages aside in a preallocated Stash and takes
# them back later, ahead of newer mail, e.g. while it waits for a reply; no allocation.
from cellex.actor import Actor
from cellex.ask import REPLIED, TIMED_OUT, Call
from cellex.config import ActorSystemConfig
from cellex.stash import Stash
from cellex.system import ActorSystem
from support import GROSS, FakeClock, assert_no_alloc, assert_no_gross_alloc, assert_raises

DEFER = "defer"  # Sorter: set the next messages aside
RECALL = "recall"  # Sorter: take one back
RECALL_ALL = "recall all"


class Sorter(Actor):
    """Defers while told to, recalls on RECALL / RECALL_ALL, logs what it handles."""

    def __init__(self, capacity=4):
        self.stash = Stash(capacity)
        self.deferring = False
        self.log = []

    def receive(self, msg):
        if msg is DEFER:
            self.deferring = True
        elif msg is RECALL:
            self.deferring = False
            self.stash.recall(self.ref)
        elif msg is RECALL_ALL:
            self.deferring = False
            self.stash.recall_all(self.ref)
        elif self.deferring:
            self.stash.defer(msg)
        else:
            self.log.append(msg)


def _system(actor, mailbox_capacity=8, clock=None):
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=mailbox_capacity)
    if clock is not None:
        cfg.with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    ref = system.spawn(actor, "a")
    return system, ref


def test_a_recalled_message_comes_back_ahead_of_newer_mail():
    s = Sorter()
    system, ref = _system(s)
    system.start()
    for m in (DEFER, 1, 2, RECALL, 3):
        ref.tell(m)
    system.run_until_idle()
    assert s.log == [1, 3] and s.stash.count == 1


def test_recall_all_keeps_the_order_the_messages_first_came_in():
    s = Sorter()
    system, ref = _system(s)
    system.start()
    for m in (DEFER, 1, 2, 3, RECALL_ALL, 4):
        ref.tell(m)
    system.run_until_idle()
    assert s.log == [1, 2, 3, 4] and s.stash.count == 0


def test_a_full_stash_refuses_the_message_and_counts_it():
    stash = Stash(2)
    assert stash.defer(1) and stash.defer(2)
    assert stash.defer(3) is False
    assert stash.count == 2 and stash.overflows == 1


def test_recall_into_a_full_mailbox_keeps_the_message_in_the_stash():
    system, ref = _system(Sorter(), mailbox_capacity=2)
    system.start()
    stash = Stash(2)
    stash.defer("x")
    ref.tell(1)
    ref.tell(2)
    assert stash.recall(ref) is False and stash.count == 1
    system.run_until_idle()
    assert stash.recall(ref) is True and stash.count == 0


def test_recall_all_into_a_nearly_full_mailbox_sends_back_the_oldest_that_fit():
    s = Sorter()
    system, ref = _system(s, mailbox_capacity=3)
    system.start()
    for m in ("a", "b", "c"):
        s.stash.defer(m)
    ref.tell(9)
    assert s.stash.recall_all(ref) == 2 and s.stash.count == 1
    system.run_until_idle()
    assert s.log == ["a", "b", 9]
    assert s.stash.recall_all(ref) == 1
    system.run_until_idle()
    assert s.log == ["a", "b", 9, "c"]


def test_recalling_from_an_empty_stash_does_nothing():
    system, ref = _system(Sorter())
    system.start()
    stash = Stash(1)
    assert stash.recall(ref) is False and stash.recall_all(ref) == 0 and ref.pending == 0


def test_a_stash_needs_a_slot():
    assert_raises(ValueError, Stash, 0)


# -- with request/reply ------------------------------------------------------------


class Controller(Actor):
    """Asks the driver about every command; commands that come meanwhile wait in its stash.

    It waits until its Call has come back (not until the Call's state changes:
    the answer may still be in its mailbox), then asks about the next one.
    """

    def __init__(self, driver):
        self.driver = driver
        self.call = Call(self)
        self.waiting = False
        self.stash = Stash(4)
        self.answers = []

    def receive(self, msg):
        GROSS.sample()
        if msg is self.call:
            self.waiting = False
            self.answers.append(msg.value if msg.state == REPLIED else TIMED_OUT)
            self.stash.recall(self.ref)
        elif self.waiting:
            self.stash.defer(msg)
        else:
            self.waiting = True
            self.system.ask(self.driver, self.call, msg, 10)


class Doubler(Actor):
    """Answers twice the request; HOLDs (does not answer) while `quiet`."""

    def __init__(self):
        self.quiet = False
        self.held = None

    def receive(self, msg):
        GROSS.sample()
        if self.quiet:
            self.held = msg
        else:
            msg.reply(msg.body * 2)


def _controller(clock):
    cfg = ActorSystemConfig(max_actors=4).with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    doubler = Doubler()
    dref = system.spawn(doubler, "driver")
    ctl = Controller(dref)
    cref = system.spawn(ctl, "controller")
    system.start()
    return system, doubler, ctl, cref


def test_an_actor_defers_commands_while_it_waits_for_a_reply():
    clock = FakeClock(0)
    system, doubler, ctl, cref = _controller(clock)
    cref.tell(1)
    cref.tell(2)
    cref.tell(3)
    system.run_until_idle()
    assert ctl.answers == [2, 4, 6] and ctl.stash.overflows == 0


def test_a_deferred_request_whose_asker_timed_out_is_not_recalled():
    clock = FakeClock(0)
    system = ActorSystem(ActorSystemConfig(max_actors=4).with_clock(clock.ticks_ms))
    s = Sorter()
    ref = system.spawn(s, "server")
    asker = Sorter()
    system.spawn(asker, "asker")
    call = Call(asker)
    system.start()
    ref.tell(DEFER)
    system.ask(ref, call, "q", 10)
    system.run_until_idle()
    assert s.stash.count == 1
    clock.advance(10)
    system.run_until_idle()  # the asker timed out
    system.ask(ref, call, "again", 10)  # the same Call, in flight again
    ref.tell(RECALL_ALL)
    system.run_until_idle()
    assert s.log == [call] and call.body == "again"  # the new request only, once
    assert system.dead_letters.expired == 1


# -- no allocation -----------------------------------------------------------------


def test_gross_defer_and_recall_take_no_block():
    system, ref = _system(Actor())  # receive() does nothing
    system.start()
    stash = Stash(2)
    defer = stash.defer
    recall = stash.recall
    recall_all = stash.recall_all
    run = system.run_until_idle

    def defer_recall():
        defer(1)
        defer(2)
        recall(ref)
        recall_all(ref)
        run()

    assert_no_gross_alloc(defer_recall)
    assert_no_alloc(defer_recall)
    assert ref.delivered >= 6 and stash.count == 0


def test_gross_deferring_while_waiting_for_a_reply_takes_no_block():
    clock = FakeClock(0)
    system, doubler, ctl, cref = _controller(clock)
    tell = cref.tell
    run = system.run_until_idle

    def commands():
        tell(1)
        tell(2)
        run()

    assert assert_no_gross_alloc(commands) >= 4
    assert_no_alloc(commands)
    assert ctl.answers[:4] == [2, 4, 2, 4]
