# ReadyQueueScheduler: run-to-completion, round-robin fairness, budgets.
from actors import Recorder
from cellex.config import ActorSystemConfig
from cellex.system import ActorSystem


def _three(log):
    system = ActorSystem(ActorSystemConfig(max_actors=3, mailbox_capacity=8))
    refs = [system.spawn(Recorder(log, name), name) for name in ("a", "b", "c")]
    system.start()
    return system, refs


def test_ready_actors_take_turns_one_message_each():
    log = []
    system, (a, b, c) = _three(log)
    for i in range(3):
        a.tell(i)
    b.tell(0)
    c.tell(0)
    c.tell(1)
    system.run_until_idle()
    assert log == [("a", 0), ("b", 0), ("c", 0), ("a", 1), ("c", 1), ("a", 2)]


def test_run_once_dispatches_exactly_one_message():
    log = []
    system, (a, b, c) = _three(log)
    a.tell(1)
    a.tell(2)
    assert system.run_once() is True
    assert log == [("a", 1)]
    assert system.run_once() is True
    assert system.run_once() is False


def test_run_with_a_budget_stops_after_that_many_messages():
    log = []
    system, (a, b, c) = _three(log)
    for i in range(5):
        a.tell(i)
    assert system.run(3) == 3
    assert len(log) == 3
    assert system.run_until_idle() == 2


def test_run_until_idle_returns_zero_when_nothing_is_ready():
    system, refs = _three([])
    assert system.run_until_idle() == 0
    assert system.scheduler.ready == 0


def test_a_message_sent_during_receive_is_dispatched_in_the_same_run():
    log = []
    system = ActorSystem(ActorSystemConfig(max_actors=2))
    sink = system.spawn(Recorder(log, "sink"), "sink")

    class Forwarder(Recorder):
        def receive(self, msg):
            sink.tell(msg * 10)

    fwd = system.spawn(Forwarder(), "fwd")
    system.start()
    fwd.tell(1)
    fwd.tell(2)
    assert system.run_until_idle() == 4
    assert log == [("sink", 10), ("sink", 20)]


def test_each_actor_is_in_the_ready_queue_at_most_once():
    system, (a, b, c) = _three([])
    for i in range(8):
        a.tell(i)
    assert system.scheduler.ready == 1


# -- Ctrl-C and SystemExit in receive() (issue 15, item 5) ---------------------
# Decided: not a failure (no supervision); it propagates out of run(), after
# the scheduler is put back in order: the interrupted message counts as
# delivered and the actor keeps its place, so the next run() carries on.


class _Interruptible(Recorder):
    def receive(self, msg):
        if isinstance(msg, type) and issubclass(msg, BaseException):
            self.got.append("interrupted")
            raise msg()
        self.got.append(msg)


def _interrupt(exc_type):
    system = ActorSystem(ActorSystemConfig(max_actors=2, mailbox_capacity=8))
    actor = _Interruptible()
    ref = system.spawn(actor, "a")
    other = system.spawn(Recorder(), "b")
    system.start()
    ref.tell(1)
    ref.tell(exc_type)
    ref.tell(2)
    other.tell(9)
    try:
        system.run_until_idle()
        raise AssertionError("expected %s to propagate" % exc_type.__name__)
    except exc_type:
        pass
    assert actor.got == [1, "interrupted"]
    assert ref.delivered == 2 and system.counters.delivered == 3  # a: 1 + the interrupted one; b: 9
    assert ref.pending == 1 and ref.state == 0
    assert system.counters.failures == 0  # not a failure: nothing was supervised
    # The next run carries on: the actor is still queued, exactly once.
    assert system.scheduler.ready == 1
    ref.tell(3)
    assert system.scheduler.ready == 1
    assert system.run_until_idle() == 2
    assert actor.got == [1, "interrupted", 2, 3]
    assert ref.delivered == 4 and system.counters.delivered == 5


def test_keyboard_interrupt_in_receive_propagates_and_the_actor_carries_on():
    _interrupt(KeyboardInterrupt)


def test_system_exit_in_receive_propagates_and_the_actor_carries_on():
    _interrupt(SystemExit)


def test_keyboard_interrupt_in_on_restart_propagates_and_the_actor_carries_on():
    class Restarter(Recorder):
        def on_restart(self):
            self.restarted += 1
            if self.restarted == 1:
                raise KeyboardInterrupt

    system = ActorSystem(ActorSystemConfig(max_actors=1, mailbox_capacity=8))
    actor = Restarter()
    ref = system.spawn(actor, "a")
    system.start()
    ref.tell(ValueError("x"))
    ref.tell(1)
    try:
        system.run_until_idle()
        raise AssertionError("expected KeyboardInterrupt to propagate")
    except KeyboardInterrupt:
        pass
    assert ref.delivered == 1 and system.counters.failures == 1
    assert system.run_until_idle() == 1
    assert actor.got == [1] and ref.pending == 0 and system.scheduler.ready == 0


# --- the watchdog (ActorSystemConfig.with_watchdog): fed while dispatching makes progress, and
# the actor in receive() kept in the reset record. Only a watched system pays for it: run() has no
# watchdog code; start() gives the scheduler a watched copy of it ----------------------------------


class Dog:
    """A watchdog that counts its feeds (machine.WDT's interface: feed())."""

    def __init__(self):
        self.feeds = 0

    def feed(self):
        self.feeds += 1


class Spy:
    """Records, at each message, the feeds so far and the running actor the record holds.

    An exception as the message is raised (after it is logged)."""

    def __init__(self, dog, record, log):
        self.dog = dog
        self.record = record
        self.log = log

    def receive(self, msg):
        from cellex.reset_record import ResetRecord

        seen = ResetRecord(self.record.store)
        seen.read()
        self.log.append((msg, self.dog.feeds, seen.running_id))
        if isinstance(msg, BaseException):
            raise msg


def _watched(log, dog, with_record=True, listener=None):
    from cellex.actor import Actor
    from cellex.reset_record import MemoryStore, ResetRecord

    record = ResetRecord(MemoryStore())
    record.boot()
    cfg = ActorSystemConfig(max_actors=3, mailbox_capacity=8).with_watchdog(1000, wdt=dog)
    if with_record:
        cfg.with_reset_record(record)
    if listener is not None:
        cfg.with_event_listener(listener)
    system = ActorSystem(cfg)

    class Watched(Spy, Actor):
        pass

    system.Watched = Watched  # for a dynamic spawn
    refs = [system.spawn(Watched(dog, record, log), name) for name in ("a", "b")]
    system.start()
    return system, refs, record


def test_a_watched_scheduler_feeds_the_watchdog_and_keeps_the_running_actor_before_each_message():
    log = []
    dog = Dog()
    system, (a, b), record = _watched(log, dog)
    a.tell(1)
    b.tell(2)
    a.tell(3)
    system.run_until_idle()
    # one feed as run() starts, then one per message; each message sees its own actor's id
    assert log == [(1, 2, a.id), (2, 3, b.id), (3, 4, a.id)]


def test_each_message_of_a_turn_is_fed_and_kept():
    # the only ready actor keeps the turn for all its mail: still fed before each message
    log = []
    dog = Dog()
    system, (a, _), record = _watched(log, dog)
    for i in range(3):
        a.tell(i)
    system.run_until_idle()
    assert log == [(0, 2, a.id), (1, 3, a.id), (2, 4, a.id)]


def test_when_run_returns_the_record_holds_no_running_actor():
    log = []
    system, (a, _), record = _watched(log, Dog())
    a.tell(1)
    system.run_until_idle()
    assert record.read() and record.running_id == 0


def test_every_way_to_run_a_watched_system_feeds_and_clears_the_running_actor():
    log = []
    dog = Dog()
    system, (a, b), record = _watched(log, dog)
    scheduler = system.scheduler
    runs = (system.run, system.run_once, system.run_until_idle, scheduler.run, scheduler.run_once,
            scheduler.run_until_idle)  # fmt: skip
    for run in runs:
        a.tell(1)
        fed = dog.feeds
        run()
        assert dog.feeds == fed + 2 and log[-1] == (1, fed + 2, a.id)
        assert record.read() and record.running_id == 0
    assert len(log) == len(runs)


def test_a_failure_in_a_watched_receive_reaches_supervision_unchanged():
    from actors import BOOM

    seen = []
    log = []
    system, (a, b), record = _watched(log, Dog(), listener=lambda info: seen.append((info.actor, info.error)))
    a.tell(BOOM)
    b.tell(2)
    system.run_until_idle()
    assert seen == [(a, BOOM)] and a.failures == 1 and system.counters.failures == 1
    assert [m for m, _, _ in log] == [BOOM, 2] and a.state == 0
    assert record.read() and record.running_id == 0


def test_a_keyboard_interrupt_in_a_watched_receive_propagates_and_leaves_no_running_actor():
    log = []
    system, (a, _), record = _watched(log, Dog())
    a.tell(KeyboardInterrupt())
    try:
        system.run_until_idle()
        raise AssertionError("expected KeyboardInterrupt to propagate")
    except KeyboardInterrupt:
        pass
    assert log[0][2] == a.id and a.delivered == 1
    assert record.read() and record.running_id == 0  # out of receive(): not blamed on a


def test_a_dynamic_actor_spawned_after_start_is_watched_too():
    log = []
    dog = Dog()
    system, _, record = _watched(log, dog)
    c = system.spawn(system.Watched(dog, record, log), "c", dynamic=True)
    c.tell(7)
    system.run_until_idle()
    assert log == [(7, 2, c.id)]
    assert record.read() and record.running_id == 0


def test_a_watchdog_without_a_record_is_fed_all_the_same():
    log = []
    dog = Dog()
    system, (a, _), record = _watched(log, dog, with_record=False)
    a.tell(1)
    system.run_until_idle()
    assert dog.feeds == 2 and log == [(1, 2, 0)]


def test_an_idle_run_feeds_the_watchdog_once():
    dog = Dog()
    system, _, _ = _watched([], dog)
    fed = dog.feeds
    system.run_until_idle()
    assert dog.feeds == fed + 1


def test_an_unwatched_system_runs_the_plain_run_and_each_actors_own_receive():
    # no watchdog code on the unwatched path: the class's run(), each actor's own receive
    log = []
    system, refs = _three(log)
    assert "run" not in system.scheduler.__dict__ and "run_until_idle" not in system.scheduler.__dict__
    assert all(ref._receive == ref.actor.receive for ref in refs)
    _, (a, _), _ = _watched([], Dog())
    assert a._receive == a.actor.receive  # watched too: the watchdog's work is in the run() copy


def test_a_scheduler_is_watched_once():
    import support

    system, _, _ = _watched([], Dog())
    support.assert_raises(RuntimeError, system.scheduler.watch, Dog().feed)


def test_the_watched_run_is_run_with_only_the_watchdogs_lines_added():
    import support

    if support.MICROPYTHON:
        support.skip("reads the scheduler's source: CPython only")
    import inspect
    import textwrap

    from cellex.scheduler import ReadyQueueScheduler

    def body(fn):
        lines = textwrap.dedent(inspect.getsource(fn)).splitlines()
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("queue = "))
        code = [line.split("  #")[0].strip() for line in lines[start:]]
        return [line for line in code if line and not line.startswith("#")]

    plain = body(ReadyQueueScheduler.run)
    watched = body(ReadyQueueScheduler._run_watched)
    added = ["i = ref.id & 0xFFF", "word = i | ((i ^ 0xFFF) << 12)", "feed()", "slot[key] = word",
             "finally:", "slot[key] = _NO_ACTOR"]  # fmt: skip
    assert [line for line in watched if line not in added] == plain
    assert [line for line in watched if line in added] == added


def test_a_watchdog_needs_a_positive_timeout_and_a_feed_method():
    import support

    cfg = ActorSystemConfig()
    support.assert_raises(ValueError, cfg.with_watchdog, 0)
    support.assert_raises(ValueError, cfg.with_watchdog, 100, object())
    assert cfg.make_watchdog() is None  # not configured: nothing made at start


def test_watched_dispatch_takes_no_heap_block():
    import support
    from actors import Counter
    from cellex.reset_record import MemoryStore, ResetRecord

    record = ResetRecord(MemoryStore())
    record.boot()
    dog = Dog()
    cfg = ActorSystemConfig(max_actors=3, mailbox_capacity=8).with_watchdog(1000, wdt=dog)
    system = ActorSystem(cfg.with_reset_record(record))
    a = system.spawn(Counter(), "a")
    b = system.spawn(Counter(), "b")
    system.start()

    def turns():
        for i in range(4):
            a.tell(i)
            b.tell(i)
        system.run_until_idle()

    support.assert_no_gross_alloc(turns)
    support.assert_no_alloc(turns)
    fed = dog.feeds
    turns()
    # fed as run() starts and before each of the 8 messages; none running once it returns
    assert dog.feeds - fed == 9 and record.read() and record.running_id == 0
