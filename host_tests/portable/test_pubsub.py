# Publish/subscribe (cellex.pubsub): topics declared before start, fixed subscriber tables,
# every subscriber's mailbox gets the message, a full one is a dead letter for that
# subscriber alone; publishing allocates nothing.
from cellex.actor import Actor
from cellex.config import ActorSystemConfig
from cellex.dead_letters import ACTOR_STOPPED, MAILBOX_FULL
from cellex.system import ActorSystem
from support import GROSS, assert_no_alloc, assert_no_gross_alloc, assert_raises


class Reader(Actor):
    """Counts readings and adds them up; allocates nothing."""

    def __init__(self):
        self.n = 0
        self.total = 0

    def receive(self, msg):
        GROSS.sample()
        self.n += 1
        self.total += msg


def _system(subscribers=3, capacity=4, mailbox_capacity=8):
    system = ActorSystem(ActorSystemConfig(max_actors=10, mailbox_capacity=mailbox_capacity))
    topic = system.topic("readings", capacity)
    readers = []
    refs = []
    for i in range(subscribers):
        r = Reader()
        readers.append(r)
        refs.append(system.spawn(r, "r" + str(i)))
    return system, topic, readers, refs


def test_publishing_delivers_to_every_subscriber():
    system, topic, readers, refs = _system()
    for ref in refs:
        topic.subscribe(ref)
    system.start()
    assert topic.publish(5) == 3
    system.run_until_idle()
    assert [r.total for r in readers] == [5, 5, 5]
    assert topic.published == 1 and topic.dropped == 0


def test_a_full_mailbox_is_a_dead_letter_for_that_subscriber_only():
    system, topic, readers, refs = _system()
    for ref in refs:
        topic.subscribe(ref)
    system.start()
    seen = []
    system.dead_letters.watch(lambda to, msg, reason: seen.append((to, msg, reason)))
    for _ in range(8):
        refs[1].tell(0)  # fills the middle subscriber's mailbox
    assert topic.publish(7) == 2
    system.run_until_idle()
    assert readers[0].total == 7 and readers[2].total == 7 and readers[1].total == 0
    assert refs[1].dead_letters == 1 and refs[0].dead_letters == 0 and refs[2].dead_letters == 0
    assert seen == [(refs[1], 7, MAILBOX_FULL)] and topic.dropped == 1


def test_a_stopped_subscriber_is_a_dead_letter_and_the_others_still_get_theirs():
    system, topic, readers, refs = _system()
    for ref in refs:
        topic.subscribe(ref)
    system.start()
    refs[0].stop()
    seen = []
    system.dead_letters.watch(lambda to, msg, reason: seen.append((to, msg, reason)))
    assert topic.publish(3) == 2
    system.run_until_idle()
    assert readers[1].total == 3 and readers[2].total == 3
    assert seen == [(refs[0], 3, ACTOR_STOPPED)] and refs[0].dead_letters == 1


def test_subscribers_get_messages_in_the_order_they_subscribed():
    system = ActorSystem(ActorSystemConfig(max_actors=4))
    order = []

    class Logs(Actor):
        def __init__(self, name):
            self.name = name

        def receive(self, msg):
            order.append(self.name)

    topic = system.topic("t", 3)
    b = system.spawn(Logs("b"), "b")
    a = system.spawn(Logs("a"), "a")
    topic.subscribe(a)
    topic.subscribe(b)
    system.start()
    topic.publish(1)
    system.run_until_idle()
    assert order == ["a", "b"]


def test_subscribing_twice_delivers_once():
    system, topic, readers, refs = _system(1)
    topic.subscribe(refs[0])
    topic.subscribe(refs[0])
    system.start()
    assert topic.subscribers == 1 and topic.publish(1) == 1


def test_an_unsubscribed_actor_gets_nothing_more_and_the_others_keep_their_places():
    system, topic, readers, refs = _system()
    for ref in refs:
        topic.subscribe(ref)
    system.start()
    assert topic.unsubscribe(refs[0]) is True
    assert topic.unsubscribe(refs[0]) is False
    topic.publish(2)
    system.run_until_idle()
    assert [r.total for r in readers] == [0, 2, 2] and topic.subscribers == 2


def test_a_full_subscriber_table_refuses_another_subscriber_clearly():
    system, topic, readers, refs = _system(3, capacity=2)
    topic.subscribe(refs[0])
    topic.subscribe(refs[1])
    e = assert_raises(RuntimeError, topic.subscribe, refs[2])
    assert "readings" in str(e) and topic.subscribers == 2


def test_topics_are_declared_before_start():
    system, topic, readers, refs = _system()
    system.start()
    e = assert_raises(RuntimeError, system.topic, "late", 2)
    assert "before start" in str(e)


def test_a_topic_needs_room_for_a_subscriber():
    system = ActorSystem(ActorSystemConfig(max_actors=2))
    assert_raises(ValueError, system.topic, "none", 0)


def test_gross_publishing_to_8_subscribers_takes_no_block():
    system, topic, readers, refs = _system(8, capacity=8)
    for ref in refs:
        topic.subscribe(ref)
    system.start()
    publish = topic.publish
    run = system.run_until_idle

    def publish_one():
        publish(1)
        run()

    assert assert_no_gross_alloc(publish_one) >= 8  # sampled in every subscriber
    assert_no_alloc(publish_one)
    n = readers[0].n
    assert n >= 3 and [r.n for r in readers] == [n] * 8


def test_gross_publishing_into_full_mailboxes_takes_no_block():
    system, topic, readers, refs = _system(4, capacity=4, mailbox_capacity=1)
    for ref in refs:
        topic.subscribe(ref)
    system.start()
    publish = topic.publish
    publish(1)  # every mailbox full: each publish below is 4 dead letters

    def publish_dropped():
        publish(1)

    assert_no_gross_alloc(publish_dropped)
    assert_no_alloc(publish_dropped)
    assert topic.dropped >= 12 and system.dead_letters.mailbox_full == topic.dropped
