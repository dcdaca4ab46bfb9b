# cellex.pubsub: Topic, publish one message to every subscriber's mailbox (QP's publish-subscribe).
# MIT licence.
#
# A topic is declared before start (ActorSystem.topic) with a fixed-size
# subscriber table. publish() tells the message to each subscriber in the
# order they subscribed: a subscriber whose mailbox is full (or who has
# stopped) gets a dead letter counted for it alone, the others still get
# theirs. Every subscriber gets the same object: publish immutable messages
# (small ints, strs, tuples) or objects the subscribers only read.
# publish(), subscribe() and unsubscribe() allocate nothing. Not safe from a
# hard interrupt handler (post to an actor that publishes).
from cellex.compat import micropython


class Topic:
    """A topic named `name` with room for `capacity` subscribers.

    Read-only: `name`, `capacity`, `subscribers` (how many now),
    `published` (publish() calls), `dropped` (copies that became dead letters).
    """

    def __init__(self, name, capacity):
        if capacity < 1:
            raise ValueError("topic %r needs room for >= 1 subscriber, got %d" % (name, capacity))
        self.name = name
        self._subs = [None] * capacity  # type: list
        self.capacity = capacity
        self.subscribers = 0
        self.published = 0
        self.dropped = 0

    def subscribe(self, ref):
        """Add `ref` (an ActorRef) to the subscribers; subscribing twice changes nothing.

        Raises RuntimeError when the table is full (a set-up error: give the
        topic more room in ActorSystem.topic()).
        """
        n = self.subscribers
        subs = self._subs
        for i in range(n):
            if subs[i] is ref:
                return
        if n == self.capacity:
            raise RuntimeError("cellex: topic " + self.name + " has no room for another subscriber")
        subs[n] = ref
        self.subscribers = n + 1

    def unsubscribe(self, ref):
        """Remove `ref`; True if it was subscribed. The others keep their order."""
        n = self.subscribers
        subs = self._subs
        for i in range(n):
            if subs[i] is ref:
                for j in range(i, n - 1):
                    subs[j] = subs[j + 1]
                subs[n - 1] = None
                self.subscribers = n - 1
                return True
        return False

    @micropython.native
    def publish(self, msg):
        """Tell `msg` to every subscriber; returns how many took it (the rest are dead letters)."""
        subs = self._subs
        n = self.subscribers
        k = 0
        for i in range(n):
            if subs[i].tell(msg):
                k += 1
        self.published += 1
        self.dropped += n - k
        return k
