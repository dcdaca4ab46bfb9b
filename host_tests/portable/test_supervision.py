# Supervision: directives, scopes, restart intensity, backoff.
from actors import BOOM, FAIL, OTHER, Other, Recorder
from cellex.actor_ref import PAUSED, RUNNING, STOPPED
from cellex.config import ActorSystemConfig
from cellex.supervision import (
    ESCALATE,
    ONE_FOR_ALL,
    REST_FOR_ONE,
    RESTART,
    RESUME,
    STOP,
    SupervisorStrategy,
)
from cellex.system import ActorSystem
from support import FakeClock


def _tree(strategy, children=("a", "b", "c"), clock=None):
    """A supervisor with `strategy` over Recorder children; returns (system, sup, {name: (ref, actor)})."""
    cfg = ActorSystemConfig(max_actors=8, guardian_strategy=SupervisorStrategy(directive=ESCALATE))
    if clock is not None:
        cfg.with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    sup = system.spawn(Recorder(), "sup", supervisor=strategy)
    kids = {}
    for name in children:
        actor = Recorder()
        kids[name] = (system.spawn(actor, name, parent=sup), actor)
    system.start()
    return system, sup, kids


def test_restart_calls_on_restart_on_the_same_actor_object():
    system, sup, kids = _tree(SupervisorStrategy(RESTART))
    ref, actor = kids["a"]
    ref.tell(FAIL)
    system.run_until_idle()
    assert actor.restarted == 1
    assert ref.actor is actor
    assert ref.state == RUNNING
    assert ref.restarts == 1


def test_restart_keeps_the_mail_behind_the_failing_message():
    system, sup, kids = _tree(SupervisorStrategy(RESTART))
    ref, actor = kids["a"]
    ref.tell(1)
    ref.tell(FAIL)
    ref.tell(2)
    system.run_until_idle()
    assert actor.got == [1, 2]


def test_resume_keeps_the_actor_running_without_on_restart():
    system, sup, kids = _tree(SupervisorStrategy(RESUME))
    ref, actor = kids["a"]
    ref.tell(FAIL)
    ref.tell(7)
    system.run_until_idle()
    assert actor.restarted == 0
    assert actor.got == [7]
    assert system.counters.resumes == 1


def test_stop_stops_the_child_and_turns_its_mail_into_dead_letters():
    system, sup, kids = _tree(SupervisorStrategy(STOP))
    ref, actor = kids["a"]
    ref.tell(FAIL)
    ref.tell(1)
    ref.tell(2)
    system.run_until_idle()
    assert ref.state == STOPPED
    assert actor.stopped == 1
    assert ref.dead_letters == 2
    assert actor.got == []


def test_stop_takes_the_childs_own_children_with_it():
    system = ActorSystem(ActorSystemConfig(max_actors=4))
    top = system.spawn(Recorder(), "top", supervisor=SupervisorStrategy(STOP))
    mid_actor = Recorder()
    mid = system.spawn(mid_actor, "mid", parent=top)
    leaf = system.spawn(Recorder(), "leaf", parent=mid)
    system.start()
    mid.tell(FAIL)
    system.run_until_idle()
    assert (mid.state, leaf.state, top.state) == (STOPPED, STOPPED, RUNNING)


def test_one_for_one_restarts_only_the_failed_child():
    system, sup, kids = _tree(SupervisorStrategy(RESTART))
    kids["b"][0].tell(FAIL)
    system.run_until_idle()
    assert [kids[n][1].restarted for n in "abc"] == [0, 1, 0]


def test_one_for_all_restarts_every_sibling():
    system, sup, kids = _tree(SupervisorStrategy(RESTART, scope=ONE_FOR_ALL))
    kids["b"][0].tell(FAIL)
    system.run_until_idle()
    assert [kids[n][1].restarted for n in "abc"] == [1, 1, 1]
    assert system.counters.restarts == 3


def test_rest_for_one_restarts_the_failed_child_and_those_started_after_it():
    system, sup, kids = _tree(SupervisorStrategy(RESTART, scope=REST_FOR_ONE))
    kids["b"][0].tell(FAIL)
    system.run_until_idle()
    assert [kids[n][1].restarted for n in "abc"] == [0, 1, 1]


def test_restarting_an_actor_restarts_its_subtree_in_place():
    system = ActorSystem(ActorSystemConfig(max_actors=4))
    top = system.spawn(Recorder(), "top", supervisor=SupervisorStrategy(RESTART))
    mid_actor, leaf_actor = Recorder(), Recorder()
    mid = system.spawn(mid_actor, "mid", parent=top)
    system.spawn(leaf_actor, "leaf", parent=mid)
    system.start()
    mid.tell(FAIL)
    system.run_until_idle()
    assert (mid_actor.restarted, leaf_actor.restarted) == (1, 1)


def test_restart_intensity_exceeded_escalates_instead_of_restarting():
    clock = FakeClock()
    system, sup, kids = _tree(SupervisorStrategy(RESTART, max_restarts=2, within_ms=1000), clock=clock)
    ref, actor = kids["a"]
    for _ in range(3):
        ref.tell(FAIL)
        system.run_until_idle()
        clock.advance(100)
    assert actor.restarted == 2
    assert system.counters.intensity_exceeded == 1
    assert system.counters.root_failures == 1
    assert sup.state == STOPPED  # the guardian escalated sup's failure to the root, which stops it


def test_restarts_outside_the_intensity_window_are_allowed():
    clock = FakeClock()
    system, sup, kids = _tree(SupervisorStrategy(RESTART, max_restarts=1, within_ms=1000), clock=clock)
    ref, actor = kids["a"]
    for _ in range(4):
        ref.tell(FAIL)
        system.run_until_idle()
        clock.advance(1001)
    assert actor.restarted == 4
    assert system.counters.intensity_exceeded == 0


def test_max_restarts_zero_escalates_at_the_first_failure():
    system, sup, kids = _tree(SupervisorStrategy(RESTART, max_restarts=0))
    kids["a"][0].tell(FAIL)
    system.run_until_idle()
    assert kids["a"][1].restarted == 0
    assert system.counters.escalations == 2  # a -> sup's supervisor (guardian) -> root


def test_backoff_pauses_the_actor_and_keeps_its_mail_until_the_delay_passes():
    clock = FakeClock()
    strategy = SupervisorStrategy(
        RESTART, max_restarts=5, within_ms=10000, backoff_min_ms=100, backoff_max_ms=1000
    )
    system, sup, kids = _tree(strategy, clock=clock)
    ref, actor = kids["a"]
    ref.tell(FAIL)
    ref.tell(1)
    system.run_until_idle()
    assert ref.state == PAUSED
    assert actor.restarted == 0
    ref.tell(2)
    clock.advance(99)
    system.run_until_idle()
    assert actor.got == []
    clock.advance(1)
    system.run_until_idle()
    assert ref.state == RUNNING
    assert actor.restarted == 1
    assert actor.got == [1, 2]


def test_backoff_doubles_for_quick_successive_failures_up_to_the_maximum():
    clock = FakeClock()
    strategy = SupervisorStrategy(
        RESTART, max_restarts=9, within_ms=100000, backoff_min_ms=100, backoff_max_ms=300
    )
    system, sup, kids = _tree(strategy, clock=clock)
    ref, actor = kids["a"]
    waited = []
    for _ in range(3):
        ref.tell(FAIL)
        system.run_until_idle()
        start = clock.now
        while ref.state == PAUSED:
            clock.advance(10)
            system.run_until_idle()
        waited.append(clock.now - start)
    assert waited == [100, 200, 300]


def test_a_decider_chooses_the_directive_per_exception():
    def decide(error):
        return RESUME if isinstance(error, Other) else STOP

    system, sup, kids = _tree(SupervisorStrategy(decider=decide))
    kids["a"][0].tell(OTHER)
    kids["b"][0].tell(BOOM)
    system.run_until_idle()
    assert kids["a"][0].state == RUNNING
    assert kids["b"][0].state == STOPPED


def test_a_raising_decider_escalates_the_failure():
    def decide(error):
        raise ValueError("broken decider")

    system, sup, kids = _tree(SupervisorStrategy(decider=decide))
    kids["a"][0].tell(FAIL)
    system.run_until_idle()
    assert system.counters.escalations >= 1
    assert system.counters.root_failures == 1


def test_a_per_child_directive_overrides_the_parents_strategy():
    system = ActorSystem(ActorSystemConfig(max_actors=4))
    sup = system.spawn(Recorder(), "sup", supervisor=SupervisorStrategy(RESTART))
    stopper = system.spawn(Recorder(), "stopper", parent=sup, directive=STOP)
    system.start()
    stopper.tell(FAIL)
    system.run_until_idle()
    assert stopper.state == STOPPED


def test_an_on_restart_that_keeps_raising_escalates_to_the_root_which_stops_the_actor():
    class BadRestart(Recorder):
        def on_restart(self):
            raise BOOM

    system = ActorSystem(ActorSystemConfig(max_actors=2))
    ref = system.spawn(BadRestart(), "bad")
    system.start()
    ref.tell(FAIL)
    system.run_until_idle()
    assert ref.state == STOPPED
    assert system.counters.failures == 2  # the failure, then the failed restart
    assert system.counters.intensity_exceeded == 1 and system.counters.root_failures == 1


def test_bad_strategy_arguments_are_refused_with_a_clear_error():
    from support import assert_raises

    assert "directive" in assert_raises(ValueError, SupervisorStrategy, 9).args[0]
    assert "scope" in assert_raises(ValueError, SupervisorStrategy, RESTART, 7).args[0]
    assert "intensity" in assert_raises(ValueError, SupervisorStrategy, RESTART, 0, -1).args[0]
    assert "backoff" in assert_raises(ValueError, SupervisorStrategy, RESTART, 0, 1, 5000, 100, 10).args[0]


# -- backoff deadlines: the earliest one is kept, actors are not walked each turn --


def test_deadlines_keep_the_earliest_and_pop_due_slots_lowest_first():
    from cellex.deadlines import Deadlines

    d = Deadlines(4)
    assert d.pop_due(0) == -1 and not d.due(1000)
    d.arm(2, 50)
    d.arm(1, 30)
    d.arm(3, 70)
    assert d.armed == 3 and d.next == 30
    assert not d.due(29) and d.pop_due(29) == -1
    d.arm(1, 60)  # moved later: the earliest is now slot 2's
    assert d.next == 50
    assert d.pop_due(65) == 1  # lowest due slot first (1 and 2 are due)
    assert d.pop_due(65) == 2
    assert d.pop_due(65) == -1 and d.armed == 1 and d.next == 70
    d.cancel(3)
    d.cancel(3)
    assert d.armed == 0 and not d.due(10**6)


def test_deadlines_survive_the_ticks_wrap_around():
    from cellex.compat import ticks_add
    from cellex.deadlines import Deadlines

    d = Deadlines(2)
    near_wrap = ticks_add(0, -10)
    d.arm(0, ticks_add(near_wrap, 20))  # past the wrap: a small number
    d.arm(1, ticks_add(near_wrap, 5))  # before the wrap: a big number
    assert d.next == ticks_add(near_wrap, 5)
    assert d.pop_due(ticks_add(near_wrap, 6)) == 1
    assert d.pop_due(ticks_add(near_wrap, 6)) == -1
    assert d.pop_due(ticks_add(near_wrap, 20)) == 0


def test_while_an_actor_waits_out_a_backoff_other_actors_run_without_wake_ups():
    clock = FakeClock()
    strategy = SupervisorStrategy(RESTART, max_restarts=5, backoff_min_ms=100, backoff_max_ms=1000)
    cfg = ActorSystemConfig(max_actors=3, guardian_strategy=strategy).with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    flaky = system.spawn(Recorder(), "flaky")
    busy = system.spawn(Recorder(), "busy")
    system.start()
    wakes = []
    wake = system.scheduler._wake

    def counting_wake(now):
        wakes.append(now)
        wake(now)

    system.scheduler._wake = counting_wake
    flaky.tell(FAIL)
    system.run_until_idle()
    assert flaky.state == PAUSED and system.deadlines.armed == 1
    for _ in range(50):
        busy.tell(1)
        system.run_until_idle()
        clock.advance(1)
    assert wakes == []  # the deadline (100 ms) has not passed: no wake-up, no walk
    clock.advance(50)
    flaky.tell(2)
    system.run_until_idle()
    assert wakes == [100] and flaky.state == RUNNING and flaky.actor.got == [2]
    assert system.deadlines.armed == 0


def test_stopping_a_paused_actor_cancels_its_deadline():
    clock = FakeClock()
    strategy = SupervisorStrategy(RESTART, max_restarts=5, backoff_min_ms=100, backoff_max_ms=1000)
    cfg = ActorSystemConfig(max_actors=2, guardian_strategy=strategy).with_clock(clock.ticks_ms)
    system = ActorSystem(cfg)
    ref = system.spawn(Recorder(), "a")
    system.start()
    ref.tell(FAIL)
    system.run_until_idle()
    assert system.deadlines.armed == 1
    system._stop(ref)
    assert system.deadlines.armed == 0 and ref.state == STOPPED
