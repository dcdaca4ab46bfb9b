# Request/reply (cellex.ask): the asker gets the reply or a timeout as a message, never
# both; slots are preallocated; a late reply is a dead letter, never given to a later
# request; no allocation per request, reply or timeout.
from cellex.actor import Actor
from cellex.ask import ASKING, ASKS_FULL, CALL_BUSY, REPLIED, TIMED_OUT, Call
from cellex.config import ActorSystemConfig
from cellex.dead_letters import EXPIRED
from cellex.system import ActorSystem
from support import GROSS, FakeClock, assert_no_alloc, assert_no_gross_alloc, assert_raises

ANSWER = "answer"  # Driver mode: reply at once
HOLD = "hold"  # Driver mode: keep the token, answer when told


class Driver(Actor):
    """Answers body + 1 at once, or (HOLD) keeps the token to answer later."""

    def __init__(self, mode=ANSWER):
        self.mode = mode
        self.seen = 0
        self.token = 0

    def receive(self, msg):
        GROSS.sample()
        self.seen += 1
        if self.mode == ANSWER:
            msg.reply(msg.body + 1)
        else:
            self.token = msg.token


class Asker(Actor):
    """Counts the answers it gets back: replies (adding up the values) and timeouts."""

    def __init__(self):
        self.call = Call(self)
        self.replies = 0
        self.timeouts = 0
        self.total = 0
        self.last_token = 0

    def receive(self, msg):
        GROSS.sample()
        self.last_token = msg.token
        if msg.state == REPLIED:
            self.replies += 1
            self.total += msg.value
        elif msg.state == TIMED_OUT:
            self.timeouts += 1


def _system(clock, ask_slots=4, mailbox_capacity=8):
    cfg = ActorSystemConfig(max_actors=4, mailbox_capacity=mailbox_capacity, ask_slots=ask_slots)
    cfg.with_clock(clock.ticks_ms)
    return ActorSystem(cfg)


def _pair(mode=ANSWER, ask_slots=4, mailbox_capacity=8):
    clock = FakeClock(1000)
    system = _system(clock, ask_slots, mailbox_capacity)
    driver = Driver(mode)
    asker = Asker()
    dref = system.spawn(driver, "driver")
    aref = system.spawn(asker, "asker")
    system.start()
    return clock, system, driver, dref, asker, aref


def _held(timeout_ms, waited_ms):
    # A request the driver holds (keeping its token), then `waited_ms` pass and the system runs.
    clock, system, driver, dref, asker, aref = _pair(HOLD)
    system.ask(dref, asker.call, 1, timeout_ms)
    system.run_until_idle()
    clock.advance(waited_ms)
    system.run_until_idle()
    return clock, system, driver, dref, asker, aref


def test_the_asker_gets_the_reply_as_a_message():
    clock, system, driver, dref, asker, aref = _pair()
    token = system.ask(dref, asker.call, 41, 100)
    system.run_until_idle()
    assert asker.replies == 1 and asker.total == 42 and asker.timeouts == 0
    assert asker.last_token == token and asker.call.sender is aref
    assert system.counters.asks == 1 and system.counters.replies == 1
    assert system.asks.in_flight == 0


def test_the_asker_gets_a_timeout_when_no_reply_comes_in_time():
    clock, system, driver, dref, asker, aref = _held(50, 49)
    assert asker.timeouts == 0
    clock.advance(1)
    system.run_until_idle()
    assert asker.timeouts == 1 and asker.replies == 0
    assert asker.call.state == TIMED_OUT and system.counters.ask_timeouts == 1


def test_a_reply_after_its_timeout_is_a_dead_letter_and_never_reaches_a_later_request():
    clock, system, driver, dref, asker, aref = _pair(HOLD, ask_slots=1)
    first = system.ask(dref, asker.call, 1, 10)
    system.run_until_idle()
    late = driver.token
    clock.advance(10)
    system.run_until_idle()  # times out
    second = system.ask(dref, asker.call, 2, 10)  # the same (only) slot, reused
    system.run_until_idle()
    assert second != first and system.asks.is_in_flight(second) and not system.asks.is_in_flight(first)
    assert system.reply(late, 99) is False
    system.run_until_idle()
    assert asker.replies == 0 and system.dead_letters.late_replies == 1
    assert aref.dead_letters == 0  # the slot serves another request now: the asker is unknown
    assert system.reply(driver.token, 7) is True
    system.run_until_idle()
    assert asker.replies == 1 and asker.total == 7 and asker.last_token == second


def test_a_late_reply_while_the_slot_is_still_free_is_counted_for_its_asker():
    clock, system, driver, dref, asker, aref = _held(10, 10)
    assert system.reply(driver.token, 5) is False
    assert aref.dead_letters == 1 and system.counters.dead_letters == 1


def test_a_request_gets_the_reply_or_the_timeout_never_both():
    clock, system, driver, dref, asker, aref = _pair(HOLD)
    system.ask(dref, asker.call, 1, 10)
    system.run_until_idle()
    assert system.reply(driver.token, 5) is True  # answered: the timeout is cancelled
    clock.advance(50)
    system.run_until_idle()
    assert asker.replies == 1 and asker.timeouts == 0
    assert system.deadlines.armed == 0


def test_requests_with_different_timeouts_each_time_out_at_their_own_deadline():
    clock, system, driver, dref, asker, aref = _pair(HOLD)
    late, soon, answered = Call(asker), Call(asker), Call(asker)
    system.ask(dref, late, 0, 30)
    system.ask(dref, soon, 0, 10)
    token = system.ask(dref, answered, 0, 5)
    system.run_until_idle()
    system.reply(token, 1)  # answered in time: its deadline never fires
    system.run_until_idle()
    states = []
    for _ in range(30):
        clock.advance(1)
        system.run_until_idle()
        states.append((soon.state, late.state))
    assert states[8] == (ASKING, ASKING) and states[9] == (TIMED_OUT, ASKING)  # 10 ms
    assert states[28] == (TIMED_OUT, ASKING) and states[29] == (TIMED_OUT, TIMED_OUT)  # 30 ms
    assert asker.replies == 1 and asker.timeouts == 2 and system.deadlines.armed == 0


def test_a_second_reply_to_the_same_request_is_a_late_reply():
    clock, system, driver, dref, asker, aref = _pair(HOLD)
    system.ask(dref, asker.call, 1, 10)
    system.run_until_idle()
    assert system.reply(driver.token, 5) is True
    assert system.reply(driver.token, 6) is False
    system.run_until_idle()
    assert asker.replies == 1 and asker.total == 5 and system.dead_letters.late_replies == 1


def test_running_out_of_ask_slots_raises_a_clear_error_and_is_counted():
    clock, system, driver, dref, asker, aref = _pair(HOLD, ask_slots=2)
    calls = [Call(asker), Call(asker), Call(asker)]
    system.ask(dref, calls[0], 0, 10)
    system.ask(dref, calls[1], 0, 10)
    e = assert_raises(RuntimeError, system.ask, dref, calls[2], 0, 10)
    assert e is ASKS_FULL and "ask_slots" in str(e)
    assert system.counters.asks_full == 1 and system.counters.asks == 2
    clock.advance(10)
    system.run_until_idle()  # both time out and free their slots
    system.ask(dref, calls[2], 0, 10)
    assert system.asks.in_flight == 1


def test_a_call_still_in_flight_cannot_be_asked_again():
    clock, system, driver, dref, asker, aref = _pair(HOLD)
    system.ask(dref, asker.call, 1, 10)
    e = assert_raises(ValueError, system.ask, dref, asker.call, 2, 10)
    assert e is CALL_BUSY and system.asks.in_flight == 1


def test_timeouts_outside_0_to_2_pow_28_ms_are_refused():
    clock, system, driver, dref, asker, aref = _pair()
    assert_raises(ValueError, system.ask, dref, asker.call, 1, -1)
    assert_raises(ValueError, system.ask, dref, asker.call, 1, (1 << 28) + 1)
    assert system.asks.in_flight == 0


def test_a_request_still_queued_when_it_times_out_is_taken_back_as_an_expired_dead_letter():
    clock, system, driver, dref, asker, aref = _pair()
    seen = []
    system.dead_letters.watch(lambda to, msg, reason: seen.append((to, msg, reason)))
    system.ask(dref, asker.call, 1, 10)
    clock.advance(10)  # before the driver had a turn
    system.run_until_idle()
    assert driver.seen == 0 and dref.pending == 0
    assert asker.timeouts == 1 and asker.replies == 0
    assert seen == [(dref, asker.call, EXPIRED)] and system.dead_letters.expired == 1


def test_taking_back_a_timed_out_request_keeps_the_rest_of_the_mailbox_in_order():
    clock, system, driver, dref, asker, aref = _pair(HOLD)
    other = Call(asker)
    system.ask(dref, other, 0, 1000)
    system.ask(dref, asker.call, 0, 10)
    third = Call(asker)
    system.ask(dref, third, 0, 1000)
    clock.advance(10)
    system.run_until_idle()
    assert driver.seen == 2 and asker.timeouts == 1
    assert driver.token == third.token  # other, then third: order kept


def test_a_zero_timeout_answers_timed_out_and_the_target_never_sees_it():
    clock, system, driver, dref, asker, aref = _pair()
    system.ask(dref, asker.call, 1, 0)
    system.run_until_idle()
    assert asker.timeouts == 1 and driver.seen == 0 and system.scheduler.ready == 0


def test_a_target_whose_only_mail_expired_leaves_the_ready_queue_and_the_others_keep_their_turns():
    clock = FakeClock(0)
    system = _system(clock)
    before, driver, after = Driver(HOLD), Driver(HOLD), Driver(HOLD)
    refs = [system.spawn(before, "before"), system.spawn(driver, "driver"), system.spawn(after, "after")]
    asker = Asker()
    system.spawn(asker, "asker")
    system.start()
    first = Call(asker)
    refs[0].tell(first)
    system.ask(refs[1], asker.call, 1, 0)  # expires before the driver's turn
    last = Call(asker)
    refs[2].tell(last)
    system.run_until_idle()
    assert (before.seen, driver.seen, after.seen) == (1, 0, 1)
    assert asker.timeouts == 1 and system.scheduler.ready == 0 and refs[1].pending == 0


def test_a_request_refused_by_a_full_mailbox_is_a_dead_letter_and_the_asker_gets_its_timeout():
    clock, system, driver, dref, asker, aref = _pair(HOLD, mailbox_capacity=1)
    dref.tell(0)  # fills the driver's one-slot mailbox
    system.ask(dref, asker.call, 1, 10)
    assert system.dead_letters.mailbox_full == 1 and dref.dead_letters == 1
    clock.advance(10)
    system.run_until_idle()
    assert asker.timeouts == 1


def test_a_target_can_answer_later_with_the_token():
    clock, system, driver, dref, asker, aref = _held(100, 60)
    assert system.reply(driver.token, 3) is True
    system.run_until_idle()
    assert asker.replies == 1 and asker.total == 3


def test_asking_a_stopped_actor_is_a_dead_letter_and_times_out():
    clock, system, driver, dref, asker, aref = _pair()
    dref.stop()
    system.ask(dref, asker.call, 1, 10)
    clock.advance(10)
    system.run_until_idle()
    assert system.dead_letters.actor_stopped == 1 and asker.timeouts == 1


def test_replying_to_a_call_never_asked_answers_nothing():
    clock, system, driver, dref, asker, aref = _pair()
    assert asker.call.reply(1) is False
    system.run_until_idle()
    assert asker.replies == 0 and system.dead_letters.count == 0


def test_ask_slots_default_to_4():
    assert ActorSystemConfig().ask_slots == 4
    assert_raises(ValueError, ActorSystemConfig, 4, 8, 2, None, 8, 8, 8, 256)


# -- no allocation ---------------------------------------------------------------


def test_gross_ask_and_reply_take_no_block():
    clock, system, driver, dref, asker, aref = _pair()
    ask = system.ask
    run = system.run_until_idle
    call = asker.call

    def round_trip():
        ask(dref, call, 1, 100)
        run()

    assert assert_no_gross_alloc(round_trip) >= 2  # sampled in the driver and the asker
    assert_no_alloc(round_trip)
    assert asker.replies >= 3 and system.asks.in_flight == 0


def test_gross_a_timeout_takes_no_block():
    clock, system, driver, dref, asker, aref = _pair(HOLD)
    ask = system.ask
    run = system.run_until_idle
    call = asker.call

    def time_out():
        ask(dref, call, 1, 10)
        run()
        clock.now += 10
        run()

    assert assert_no_gross_alloc(time_out) >= 2
    assert_no_alloc(time_out)
    assert asker.timeouts >= 3 and asker.replies == 0


def test_gross_a_late_reply_takes_no_block():
    clock, system, driver, dref, asker, aref = _held(10, 10)
    reply = system.reply
    stale = driver.token

    def late():
        reply(stale, 2)

    assert_no_gross_alloc(late)
    assert_no_alloc(late)
    assert system.dead_letters.late_replies >= 3 and aref.dead_letters >= 3 and asker.replies == 0


def test_gross_a_request_expiring_in_the_mailbox_takes_no_block():
    clock, system, driver, dref, asker, aref = _pair(HOLD)
    ask = system.ask
    run = system.run_until_idle

    def expired():
        ask(dref, asker.call, 1, 0)
        run()

    assert assert_no_gross_alloc(expired) >= 1  # the asker got its timeout inside
    assert_no_alloc(expired)
    assert system.dead_letters.expired >= 3 and asker.timeouts >= 3
