# sensor_pipeline: protocols between actors in a small firmware-shaped app.
# MIT licence.
#
# A sensor publishes each reading on a topic to a filter and a logger
# (publish/subscribe); every 10th reading a console sends two commands to a
# controller, which asks a driver about each one with a timeout
# (request/reply) and sets the second aside until the first is answered
# (deferral). The driver misses one request and answers it too late: the
# controller gets the timeout, the late answer is a dead letter. Once the
# sensor's FIFO flushes a burst the logger's small mailbox overflows: dead
# letters for the logger only, the filter gets every reading. A hook watches
# every dead letter. Nothing allocates once the system is started (heap_run,
# the heap's growth over the run, is 0 on MicroPython; -1 where unmeasured).
# It prints one line:
#   cellex pipeline: done readings=.. filtered=.. logged=.. ... answers=RRRRTRRRRR
#
# Runs on CPython and MicroPython (PYTHONPATH / MICROPYPATH=firmware, or with
# cellex frozen in a board's firmware): `mpremote run apps/sensor_pipeline.py`.
import gc

from cellex.actor import Actor
from cellex.ask import REPLIED, Call
from cellex.config import ActorSystemConfig
from cellex.dead_letters import ACTOR_STOPPED, EXPIRED, LATE_REPLY, MAILBOX_FULL
from cellex.idle import default_idle  # imported here, not by run_forever() mid-run
from cellex.stash import Stash
from cellex.system import ActorSystem

_READINGS = 60
_PERIOD_MS = 20
_BURST_AT = 30  # the reading at which the sensor flushes a FIFO of 4 readings at once
_TIMEOUT_MS = 30
_MISSED = 4  # the driver does not answer its 5th request in time
_COMMANDS = 10  # two every 10th reading, from the first


class Sensor(Actor):
    """Each timer tick: one reading published (a burst of four once); commands every 10th."""

    def __init__(self, topic, console):
        self.publish = topic.publish  # bound once: binding a method allocates
        self.console = console
        self.n = 0

    def receive(self, tick):
        n = self.n
        reading = 100 + (n * 7) % 13
        publish = self.publish
        publish(reading)
        if n == _BURST_AT:
            publish(reading)
            publish(reading)
            publish(reading)
        if n % 10 == 0 and n < _COMMANDS * 5:
            self.console.tell(n)
        self.n = n + 1
        if self.n == _READINGS:
            self.system.stop()


class Filter(Actor):
    """A moving average over the last four readings."""

    def __init__(self):
        self.window = [0, 0, 0, 0]
        self.got = 0
        self.average = 0

    def receive(self, reading):
        w = self.window
        w[self.got & 3] = reading
        self.got += 1
        self.average = (w[0] + w[1] + w[2] + w[3]) >> 2


class Logger(Actor):
    """Writes readings out (counts them here); its mailbox holds two."""

    def __init__(self):
        self.logged = 0

    def receive(self, reading):
        self.logged += 1


class Console(Actor):
    """Turns each tick number into two commands for the controller: STATUS then CALIBRATE."""

    def __init__(self, controller):
        self.controller = controller

    def receive(self, n):
        self.controller.tell(1)  # STATUS
        self.controller.tell(2)  # CALIBRATE


class Controller(Actor):
    """Asks the driver about each command; one in flight, the others wait in its stash."""

    def __init__(self, driver, answers):
        self.driver = driver
        self.call = Call(self)
        self.waiting = False
        self.stash = Stash(4)
        self.answers = answers  # a preallocated bytearray: b"R" replied, b"T" timed out
        self.done = 0
        self.deferred = 0

    def receive(self, msg):
        if msg is self.call:
            self.waiting = False
            self.answers[self.done] = 82 if msg.state == REPLIED else 84  # "R" / "T"
            self.done += 1
            self.stash.recall(self.ref)
        elif self.waiting:
            self.stash.defer(msg)
            self.deferred += 1
        else:
            self.waiting = True
            self.system.ask(self.driver, self.call, msg, _TIMEOUT_MS)


class Driver(Actor):
    """Answers each command with its code + 100, but misses one request: it answers
    that one when the next request comes, by its token, too late."""

    def __init__(self):
        self.requests = 0
        self.owed = 0  # the token of the request it has not answered yet

    def receive(self, call):
        if self.owed:
            self.system.reply(self.owed, 0)  # too late: a dead letter
            self.owed = 0
        if self.requests == _MISSED:
            self.owed = call.token
        else:
            call.reply(call.body + 100)
        self.requests += 1


class DeadLetterCounts:
    """The dead-letter hook: counts by reason in a preallocated list."""

    def __init__(self):
        self.by_reason = [0, 0, 0, 0, 0]

    def __call__(self, to, msg, reason):
        self.by_reason[reason] += 1


def main():
    system = ActorSystem(ActorSystemConfig(max_actors=8, mailbox_capacity=8, ask_slots=2))
    readings = system.topic("readings", 2)
    flt = Filter()
    logger = Logger()
    driver_ref = system.spawn(Driver(), "driver")
    answers = bytearray(b"-" * _COMMANDS)
    controller = Controller(driver_ref, answers)
    controller_ref = system.spawn(controller, "controller")
    console_ref = system.spawn(Console(controller_ref), "console")
    readings.subscribe(system.spawn(flt, "filter"))
    logger_ref = system.spawn(logger, "logger", mailbox_capacity=2)
    readings.subscribe(logger_ref)
    sensor_ref = system.spawn(Sensor(readings, console_ref), "sensor")
    watch = DeadLetterCounts()
    system.dead_letters.watch(watch)
    system.send_every(sensor_ref, 0, _PERIOD_MS, 0)
    system.start()
    mem_alloc = getattr(gc, "mem_alloc", None)  # MicroPython only
    before = mem_alloc() if mem_alloc else 0
    system.run_forever(default_idle)
    heap_run = mem_alloc() - before if mem_alloc else -1

    c = system.counters
    d = system.dead_letters
    seen = watch.by_reason
    print(
        "cellex pipeline: done readings=%d published=%d filtered=%d average=%d logged=%d logger_dead=%d "
        "asks=%d replies=%d timeouts=%d deferred=%d late_replies=%d dead_letters=%d "
        "watched_full=%d watched_late=%d watched_stopped=%d watched_expired=%d failures=%d heap_run=%d "
        "answers=%s"
        % (
            _READINGS, readings.published, flt.got, flt.average, logger.logged, logger_ref.dead_letters,
            c.asks, c.replies, c.ask_timeouts, controller.deferred, d.late_replies, d.count,
            seen[MAILBOX_FULL], seen[LATE_REPLY], seen[ACTOR_STOPPED], seen[EXPIRED], c.failures, heap_run,
            answers.decode(),
        )  # fmt: skip
    )


main()
