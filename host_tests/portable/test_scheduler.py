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
