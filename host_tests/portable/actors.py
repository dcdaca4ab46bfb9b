# actors: test doubles shared by the portable tests.
from cellex.actor import Actor
from cellex.errors import preallocated


class Boom(Exception):
    pass


class Other(Exception):
    pass


# Preallocated, as interrupt-safe MicroPython code does, and pinned (cellex.errors):
# raising these again and again allocates nothing, on the unix port and on a board.
BOOM = preallocated(Boom("boom"))
OTHER = preallocated(Other("other"))
FAIL = "fail"  # the message that makes a Worker raise BOOM


class Recorder(Actor):
    """Keeps every message (allocates: not for no-allocation tests)."""

    def __init__(self, log=None, label=None):
        self.got = []
        self.log = log
        self.label = label
        self.restarted = 0
        self.stopped = 0

    def receive(self, msg):
        if msg is FAIL:
            raise BOOM
        if isinstance(msg, BaseException):
            raise msg
        self.got.append(msg)
        if self.log is not None:
            self.log.append((self.label, msg))

    def on_restart(self):
        self.restarted += 1

    def on_stop(self):
        self.stopped += 1


class Counter(Actor):
    """Counts messages and raises preallocated exceptions on request; allocates nothing."""

    def __init__(self):
        self.seen = 0
        self.total = 0
        self.restarted = 0

    def receive(self, msg):
        if msg is FAIL:
            raise BOOM
        self.seen += 1
        self.total += msg

    def on_restart(self):
        self.restarted += 1
        self.total = 0
