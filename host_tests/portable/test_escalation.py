# Escalation: the chain of supervisors, the custom handler, and the RootEscalationSink.
from actors import BOOM, FAIL, Recorder
from cellex.actor_ref import RUNNING, STOPPED
from cellex.config import ActorSystemConfig
from cellex.root_escalation_sink import MAX_NESTING, ROOT_RESET
from cellex.supervision import ESCALATE, RESTART, SupervisorStrategy
from cellex.system import ActorSystem

_ESCALATE = SupervisorStrategy(ESCALATE)


def _chain(depth, cfg=None):
    """top-level a0 <- a1 <- ... every supervisor escalates; returns (system, refs)."""
    cfg = cfg or ActorSystemConfig(max_actors=8)
    cfg.with_guardian_strategy(_ESCALATE)
    system = ActorSystem(cfg)
    refs = []
    parent = None
    for i in range(depth):
        parent = system.spawn(Recorder(), "a%d" % i, parent=parent, supervisor=_ESCALATE)
        refs.append(parent)
    return system, refs


def _seen(into):
    def listener(info):
        into.append((info.actor.name, info.subject.name, info.stage, info.error))

    return listener


def test_the_escalation_stage_equals_the_number_of_supervisor_hops():
    for depth in (1, 2, 4):
        seen = []
        system, refs = _chain(depth, ActorSystemConfig(max_actors=8).with_event_listener(_seen(seen)))
        system.start()
        refs[-1].tell(FAIL)
        system.run_until_idle()
        assert seen == [("a%d" % (depth - 1), "a0", depth, BOOM)]


def test_the_root_sees_each_failure_that_reaches_it_exactly_once():
    seen = []
    system, refs = _chain(3, ActorSystemConfig(max_actors=8).with_event_handler(_seen(seen)))
    system.start()
    refs[2].tell(FAIL)
    system.run_until_idle()
    assert len(seen) == 1
    assert system.counters.root_failures == 1


def test_the_root_stops_the_top_level_subtree_the_failure_escalated_from():
    system, refs = _chain(3)
    bystander = system.spawn(Recorder(), "bystander")
    system.start()
    refs[2].tell(FAIL)
    system.run_until_idle()
    assert [r.state for r in refs] == [STOPPED, STOPPED, STOPPED]
    assert bystander.state == RUNNING


def test_a_supervisor_that_restarts_keeps_the_failure_away_from_the_root():
    seen = []
    handled = []
    cfg = ActorSystemConfig(max_actors=4).with_event_listener(_seen(seen))
    cfg.with_event_handler(lambda info: handled.append(info.stage))
    system = ActorSystem(cfg)
    sup = system.spawn(Recorder(), "sup", supervisor=SupervisorStrategy(RESTART))
    child = system.spawn(Recorder(), "child", parent=sup)
    system.start()
    child.tell(FAIL)
    system.run_until_idle()
    assert seen == [("child", "child", 0, BOOM)]  # the listener hears of it: restarted
    assert handled == []  # the event handler is for failures at the root only
    assert system.counters.root_failures == 0


def test_the_handler_runs_before_the_listener():
    order = []
    cfg = ActorSystemConfig(max_actors=4)
    cfg.with_event_handler(lambda info: order.append("handler"))
    cfg.with_event_listener(lambda info: order.append("listener"))
    system, refs = _chain(1, cfg)
    system.start()
    refs[0].tell(FAIL)
    system.run_until_idle()
    assert order == ["handler", "listener"]


def _raise(info):
    raise BOOM


def test_a_raising_event_handler_is_counted_and_supervision_goes_on():
    seen = []
    cfg = ActorSystemConfig(max_actors=4).with_event_handler(_raise).with_event_listener(_seen(seen))
    system, refs = _chain(2, cfg)
    system.start()
    refs[1].tell(FAIL)
    system.run_until_idle()
    assert system.counters.handler_errors == 1
    assert len(seen) == 1
    assert refs[0].state == STOPPED


def test_a_raising_event_listener_is_counted_and_supervision_goes_on():
    cfg = ActorSystemConfig(max_actors=4).with_event_listener(_raise)
    system, refs = _chain(2, cfg)
    system.start()
    refs[1].tell(FAIL)
    refs[1].tell(FAIL)
    system.run_until_idle()
    assert system.counters.listener_errors == 1
    assert refs[0].state == STOPPED
    assert refs[1].dead_letters == 1


def test_the_custom_escalation_handler_can_absorb_a_failure_before_the_root():
    calls = []

    def handler(actor, error, stage):
        calls.append((actor.name, stage))
        return True

    cfg = ActorSystemConfig(max_actors=4).with_escalation_handler(handler)
    system, refs = _chain(2, cfg)
    system.start()
    refs[1].tell(FAIL)
    system.run_until_idle()
    assert calls == [("a1", 2)]
    assert system.counters.root_failures == 0
    assert system.counters.handled_by_handler == 1
    assert refs[0].state == RUNNING


def test_a_raising_custom_escalation_handler_passes_the_failure_to_the_root():
    def handler(actor, error, stage):
        raise BOOM

    system, refs = _chain(1, ActorSystemConfig(max_actors=4).with_escalation_handler(handler))
    system.start()
    refs[0].tell(FAIL)
    system.run_until_idle()
    assert system.counters.handler_errors == 1
    assert system.counters.root_failures == 1


def test_the_reset_policy_calls_the_reset_function_after_the_root_is_done():
    events = []
    cfg = ActorSystemConfig(max_actors=4)
    cfg.with_event_listener(lambda info: events.append("listener"))
    cfg.with_root_policy(ROOT_RESET, reset=lambda: events.append("reset"))
    system, refs = _chain(1, cfg)
    system.start()
    refs[0].tell(FAIL)
    system.run_until_idle()
    assert events == ["listener", "reset"]


def _nesting_system(times):
    """A root event handler that makes the next actor fail, `times` times over, nesting deeper."""
    box = []

    def handler(info):
        system = box[0]
        n = len(box)
        if n > times:
            return
        box.append(info.sequence)
        other = system.lookup("/user/other%d" % n)
        other.tell(FAIL)
        system.run_once()

    cfg = ActorSystemConfig(max_actors=8).with_event_handler(handler)
    cfg.with_guardian_strategy(SupervisorStrategy(ESCALATE))
    system = ActorSystem(cfg)
    box.append(system)
    first = system.spawn(Recorder(), "first")
    for i in range(1, 6):
        system.spawn(Recorder(), "other%d" % i)
    system.start()
    first.tell(FAIL)
    system.run_until_idle()
    return system, first


def test_a_failure_raised_while_the_root_is_busy_is_handled_too():
    system, first = _nesting_system(1)
    assert system.counters.root_failures == 2
    assert system.counters.nested_dropped == 0
    assert first.state == STOPPED
    assert system.lookup("/user/other1").state == STOPPED


def test_an_actor_in_the_middle_of_its_turn_is_not_dispatched_again_by_a_nested_run():
    log = []
    box = []

    class SelfTeller(Recorder):
        def receive(self, msg):
            log.append(("enter", msg))
            if msg == 1:
                self.ref.tell(2)
                box[0].run_once()  # re-entrant run: must not re-enter this actor
            log.append(("leave", msg))

    system = ActorSystem(ActorSystemConfig(max_actors=2))
    box.append(system)
    ref = system.spawn(SelfTeller(), "self")
    system.start()
    ref.tell(1)
    system.run_until_idle()
    assert log == [("enter", 1), ("leave", 1), ("enter", 2), ("leave", 2)]


def test_nesting_inside_the_root_is_bounded_and_counted():
    system, first = _nesting_system(10)
    assert system.counters.nested_dropped == system.counters.root_failures - MAX_NESTING
    assert system.counters.nested_dropped >= 1
    assert first.state == STOPPED
