# No allocation after start: the message and failure paths, with the heap locked under MicroPython.
from actors import FAIL, Counter
from cellex.actor_ref import PAUSED
from cellex.config import ActorSystemConfig
from cellex.supervision import ESCALATE, RESTART, RESUME, STOP, SupervisorStrategy
from cellex.system import ActorSystem
from support import FakeClock, assert_no_alloc, heap_growth

_MESSAGES = 10000


def _system(guardian=None, clock=None, mailbox=16):
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=mailbox, guardian_strategy=guardian)
    if clock is not None:
        cfg.with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    actor = Counter()
    ref = system.spawn(actor, "counter")
    return system, actor, ref


def test_tell_allocates_nothing():
    system, actor, ref = _system()
    system.start()

    def tell():
        ref.tell(1)
        ref.tell(2)
        system.run_until_idle()

    assert_no_alloc(tell)
    assert actor.seen >= 2


def test_a_dead_letter_allocates_nothing():
    system, actor, ref = _system(mailbox=1)
    system.start()
    ref.tell(1)
    assert_no_alloc(lambda: ref.tell(2))
    assert ref.dead_letters >= 1


def test_dispatching_ten_thousand_messages_allocates_nothing():
    system, actor, ref = _system()
    other = system.spawn(Counter(), "other")
    system.start()

    def pump():
        sent = 0
        while sent < _MESSAGES:
            for _ in range(8):
                ref.tell(1)
                other.tell(1)
            sent += 16
            system.run_until_idle()
        return sent

    assert assert_no_alloc(pump) == _MESSAGES
    assert actor.seen + other.actor.seen >= _MESSAGES


def test_a_failure_that_restarts_the_actor_in_place_allocates_nothing():
    clock = FakeClock()
    system, actor, ref = _system(SupervisorStrategy(RESTART, max_restarts=1, within_ms=10), clock)
    system.start()

    def fail_and_restart():
        for _ in range(100):
            ref.tell(FAIL)
            system.run_until_idle()
            clock.advance(11)

    assert_no_alloc(fail_and_restart)
    assert actor.restarted >= 100
    assert system.counters.root_failures == 0


def test_a_failure_escalated_to_the_root_allocates_nothing():
    system = ActorSystem(ActorSystemConfig(max_actors=4, guardian_strategy=SupervisorStrategy(ESCALATE)))
    sup = system.spawn(Counter(), "sup", supervisor=SupervisorStrategy(ESCALATE))
    leaf = system.spawn(Counter(), "leaf", parent=sup)
    system.start()

    def escalate():
        # The root stops the subtree; bring it back by hand (no allocation) to repeat.
        for _ in range(100):
            sup.state = leaf.state = 0
            leaf.tell(FAIL)
            system.run_until_idle()

    assert_no_alloc(escalate)
    assert system.counters.root_failures >= 100
    assert system.counters.snapshots_dropped == 0


def test_a_restart_with_backoff_allocates_nothing():
    clock = FakeClock()
    strategy = SupervisorStrategy(RESTART, max_restarts=3, within_ms=50, backoff_min_ms=10, backoff_max_ms=40)
    system, actor, ref = _system(strategy, clock)
    system.start()

    def backoff():
        for _ in range(50):
            ref.tell(FAIL)
            ref.tell(1)
            system.run_until_idle()
            while ref.state == PAUSED:
                clock.advance(5)
                system.run_until_idle()
            clock.advance(100)

    assert_no_alloc(backoff)
    assert actor.restarted >= 50


def test_stopping_an_actor_allocates_nothing():
    system, actor, ref = _system(SupervisorStrategy(STOP))
    system.start()

    def stop():
        ref.state = 0
        ref.tell(1)
        ref.tell(FAIL)
        ref.tell(2)
        system.run_until_idle()

    assert_no_alloc(stop)
    assert ref.dead_letters >= 1


_TIMEOUT = OSError(110)  # preallocated built-in exception: its traceback can be cleared


class _RaisesTimeout(Counter):
    def receive(self, msg):
        raise _TIMEOUT


def test_raising_a_preallocated_builtin_exception_again_and_again_does_not_grow_the_heap():
    system = ActorSystem(ActorSystemConfig(max_actors=2, guardian_strategy=SupervisorStrategy(RESUME)))
    ref = system.spawn(_RaisesTimeout(), "flaky")
    system.start()

    def fail_many():
        for _ in range(2000):
            ref.tell(1)
            system.run_until_idle()

    fail_many()
    # Heap unlocked, as on a board: without clearing, each raise adds 24 bytes of traceback.
    assert heap_growth(fail_many, 1) < 512
    assert system.counters.resumes >= 4000
