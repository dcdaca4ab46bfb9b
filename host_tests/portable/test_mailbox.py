# Mailboxes: fixed capacity, FIFO, dead letters and high-water marks.
from actors import Recorder
from cellex.actor_ref import STOPPED
from cellex.config import ActorSystemConfig
from cellex.system import ActorSystem


def _system(capacity=4):
    system = ActorSystem(ActorSystemConfig(max_actors=4, mailbox_capacity=capacity))
    actor = Recorder()
    ref = system.spawn(actor, "a")
    system.start()
    return system, actor, ref


def test_messages_arrive_in_the_order_they_were_sent():
    system, actor, ref = _system()
    for i in range(4):
        ref.tell(i)
    system.run_until_idle()
    assert actor.got == [0, 1, 2, 3]


def test_fifo_order_holds_across_the_ring_wrapping_around():
    system, actor, ref = _system(capacity=3)
    for i in range(10):
        assert ref.tell(i)
        if i % 2:
            system.run_until_idle()
    system.run_until_idle()
    assert actor.got == list(range(10))


def test_a_full_mailbox_refuses_the_message_and_counts_a_dead_letter():
    system, actor, ref = _system(capacity=2)
    assert ref.tell("a") is True
    assert ref.tell("b") is True
    assert ref.tell("c") is False
    assert ref.dead_letters == 1
    assert system.counters.dead_letters == 1
    system.run_until_idle()
    assert actor.got == ["a", "b"]


def test_a_mailbox_takes_messages_again_once_drained():
    system, actor, ref = _system(capacity=1)
    ref.tell(1)
    assert ref.tell(2) is False
    system.run_until_idle()
    assert ref.tell(3) is True
    system.run_until_idle()
    assert actor.got == [1, 3]


def test_high_water_mark_is_the_most_messages_ever_waiting():
    system, actor, ref = _system(capacity=8)
    for i in range(5):
        ref.tell(i)
    system.run_until_idle()
    ref.tell(9)
    system.run_until_idle()
    assert ref.high_water == 5
    assert ref.pending == 0


def test_a_stopped_actor_refuses_messages_as_dead_letters():
    system, actor, ref = _system()
    system._stop(ref)
    assert ref.state == STOPPED
    assert ref.tell(1) is False
    assert ref.dead_letters == 1


def test_mailbox_capacity_can_be_chosen_per_actor_at_spawn():
    system = ActorSystem(ActorSystemConfig(mailbox_capacity=4))
    ref = system.spawn(Recorder(), "big", mailbox_capacity=16)
    assert ref.capacity == 16
    assert system.spawn(Recorder(), "default").capacity == 4


def test_delivered_counts_every_message_handed_to_receive():
    system, actor, ref = _system()
    ref.tell(1)
    ref.tell(2)
    system.run_until_idle()
    assert ref.delivered == 2
    assert system.counters.delivered == 2


def test_tell_works_from_a_micropython_schedule_callback_without_allocating():
    import support

    if not support.MICROPYTHON:
        support.skip("micropython.schedule exists only on MicroPython")
    import micropython

    system, actor, ref = _system()
    tell = ref.tell  # bound once, as an interrupt handler must

    def from_soft_irq():
        micropython.schedule(tell, 7)
        for _ in range(100):  # the VM runs scheduled callbacks between bytecodes
            if ref.pending:
                break
        system.run_until_idle()

    support.assert_no_alloc(from_soft_irq)
    assert actor.got == [7]
