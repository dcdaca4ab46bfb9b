# cellex.ask: request/reply between actors, with a timeout (Erlang's call, Akka's ask).
# MIT licence.
#
# The asker owns a Call (made with the actor, reused for request after
# request, like a buffer passed to readinto()). ask() sends the Call to the target as
# the request; the target answers with call.reply(value); the Call comes
# back to the asker as a message, REPLIED with its value or TIMED_OUT:
# exactly one of the two, never both.
#
# Requests in flight live in a fixed number of slots (ActorSystemConfig
# ask_slots). Their timeouts share ONE slot of the system's Deadlines (after
# the timers'), armed for the earliest; a timeout fires like a timer. A reply
# leaves that deadline alone (most replies come before their timeout: no
# deadline work on the round trip); when it passes, the due requests time out
# and it moves to the next one still in flight, or disarms (after answered
# requests that costs one early wake-up of an idle loop, no message). Running out of
# slots raises ASKS_FULL and counts asks_full. A token names one request:
# (generation << 8) | slot, the generation moving on each time the slot is
# taken, so a reply that comes after its request timed out (the slot free or
# serving another request) is recognised and made a LATE_REPLY dead letter,
# never delivered to a later request.
#
# When a request times out while still waiting in the target's mailbox, it
# is taken out of it (an EXPIRED dead letter): the Call can be asked again
# at once without a stale copy of it queued somewhere. A Stash (cellex.stash)
# drops a Call that timed out while it was set aside. A target that answers
# later from its own state must keep `call.token` (an int), not the Call,
# and answer with ActorSystem.reply(token, value).
#
# ask(), reply() and a timeout allocate nothing. Not safe from a hard
# interrupt handler (post a message to an actor that asks).
from cellex.compat import clear_traceback, const, micropython, ticks_add, ticks_diff
from cellex.dead_letters import EXPIRED, LATE_REPLY

# Call states
IDLE = const(0)  # never asked
ASKING = const(1)  # in flight: sent to the target, no answer yet
REPLIED = const(2)  # call.value holds the reply
TIMED_OUT = const(3)  # no reply within the timeout

_SLOT_BITS = const(8)
_SLOT_MASK = const(0xFF)
_GEN_BITS = const(21)
MAX_ASK_SLOTS = const(255)
_MAX_TIMEOUT_MS = 1 << 28  # as timers: deadlines compare safely

# Made once; raised again and again without growing (built-in types: cellex
# clears their traceback).
ASKS_FULL = RuntimeError("cellex: every ask slot is in use (ActorSystemConfig ask_slots)")
CALL_BUSY = ValueError("cellex: this Call is still in flight: make one Call per request in flight")


class Call:
    """One request/reply exchange, owned by the asking actor and reused for each request.

    Make it with the actor: `self.call = Call(self)` in its __init__.
    Read-only: `state` (IDLE / ASKING / REPLIED / TIMED_OUT), `token` (the
    int naming the current or last request), `body` (the request),
    `value` (the reply; meaningful only when REPLIED), `owner` (the asking Actor),
    `sender` (its ActorRef, set by ask()).
    The target gets the Call as its message and answers with reply(); the
    asker gets it back as a message once it is REPLIED or TIMED_OUT. Ask
    with it again only once it has come back (its state changes when it is
    answered, while it may still wait in the owner's mailbox); make one
    Call per request the actor keeps in flight at once.
    """

    def __init__(self, owner):
        self.owner = owner
        self.state = IDLE
        self.token = 0
        self.body = None
        self.value = None
        self.sender = None
        self._asks = None  # type: Asks | None  # set by its first ask()

    @micropython.native
    def reply(self, value):
        """Answer this request with `value`; False if it had timed out (a LATE_REPLY dead letter).

        Valid in the receive() that got the Call (or after a Stash recall);
        to answer later, keep `token` and call ActorSystem.reply(token, value).
        """
        asks = self._asks
        if asks is None:  # never asked: there is nothing to answer
            return False
        return asks.reply(self.token, value)

    def __repr__(self):
        return "<Call " + str(self.token) + " " + ("IDLE", "ASKING", "REPLIED", "TIMED_OUT")[self.state] + ">"


class Asks:
    """`capacity` request slots whose timeouts share slot `slot` of `deadlines`.

    Read-only: `in_flight` (requests waiting for an answer), `capacity`.
    Use ActorSystem.ask() / reply().
    """

    def __init__(self, capacity, deadlines, slot, counters, letters, clock):
        if not 0 <= capacity <= MAX_ASK_SLOTS:
            raise ValueError("ask_slots must be 0..%d, got %d" % (MAX_ASK_SLOTS, capacity))
        self._call = [None] * capacity  # type: list  # the Call in flight; None = free slot
        self._target = [None] * capacity  # type: list
        self._sender = [None] * capacity  # type: list  # kept after the answer: names a late reply's asker
        self._gen = [0] * capacity
        self._at = [0] * capacity  # each request's timeout (ticks_ms)
        self.capacity = capacity
        self.in_flight = 0
        self._deadlines = deadlines
        self._slot = slot
        self._armed = False  # the shared deadline is armed, for self._next
        self._next = 0
        self._counters = counters
        self._letters = letters
        self._clock = clock

    @micropython.native
    def ask(self, target, call, body, timeout_ms):
        """Send `call` to `target` carrying `body`; its owner gets it back, answered or timed out.

        Returns the request's token. Raises CALL_BUSY (ValueError) when `call`
        is still in flight, ASKS_FULL (RuntimeError, counted in asks_full)
        when every slot is in use, ValueError for a timeout outside
        0..2**28 ms. A request the target's mailbox refuses is a dead letter
        (counted) and the asker gets its timeout.
        """
        if call.state == ASKING:
            e = CALL_BUSY
            clear_traceback(e)
            raise e
        if timeout_ms < 0 or timeout_ms > _MAX_TIMEOUT_MS:
            self._bad_timeout(timeout_ms)
        calls = self._call
        cap = self.capacity
        i = 0
        while i < cap:
            if calls[i] is None:
                break
            i += 1
        if i == cap:
            self._counters.asks_full += 1
            e = ASKS_FULL
            clear_traceback(e)
            raise e
        if call._asks is None:  # its first request: the owner was spawned by now
            call._asks = self
            call.sender = call.owner.ref
        gen = self._gen[i] + 1
        # Tested by a shift: ARMv6-M native code misloads literals >= 2**15 (see timers).
        if gen >> _GEN_BITS:
            gen = 1
        self._gen[i] = gen
        token = (gen << _SLOT_BITS) | i
        calls[i] = call
        self._target[i] = target
        self._sender[i] = call.sender
        self.in_flight += 1
        call.state = ASKING
        call.token = token
        call.body = body
        self._counters.asks += 1
        at = ticks_add(self._clock(), timeout_ms)
        self._at[i] = at
        if not self._armed or ticks_diff(at, self._next) < 0:
            self._armed = True
            self._next = at
            self._deadlines.arm(self._slot, at)
        target.tell(call)
        return token

    def _bad_timeout(self, ms):
        raise ValueError("ask timeout out of range: %d ms (0..2**28)" % ms)

    @micropython.native
    def reply(self, token, value):
        """Answer the request `token` with `value`: its Call goes back to the asker, REPLIED.

        False when the request is no longer in flight (timed out, or
        answered already): `value` is then a LATE_REPLY dead letter.
        """
        i = token & _SLOT_MASK
        if token > 0 and i < self.capacity:
            calls = self._call
            call = calls[i]
            if call is not None and self._gen[i] == token >> _SLOT_BITS:
                calls[i] = None
                self._target[i] = None
                self.in_flight -= 1
                call.value = value
                call.state = REPLIED
                self._counters.replies += 1
                call.sender.tell(call)
                return True
            # Its asker, while the slot has served no other request since.
            to = self._sender[i] if self._gen[i] == token >> _SLOT_BITS else None
        else:
            to = None
        self._letters.add(to, value, LATE_REPLY)
        return False

    @micropython.native
    def wake(self, now):
        """The shared deadline passed (it was popped): time out every request due by `now`.

        Each one's Call goes back to its owner, TIMED_OUT; then the deadline
        moves to the earliest request still in flight.
        """
        self._armed = False
        calls = self._call
        at = self._at
        for i in range(self.capacity):
            if calls[i] is None:
                continue
            if ticks_diff(now, at[i]) >= 0:
                self._expire(i)
            elif not self._armed or ticks_diff(at[i], self._next) < 0:
                self._armed = True
                self._next = at[i]
        if self._armed:
            self._deadlines.arm(self._slot, self._next)

    @micropython.native
    def _expire(self, i):
        call = self._call[i]
        target = self._target[i]
        self._call[i] = None
        self._target[i] = None
        self.in_flight -= 1
        if target._withdraw(call):
            self._letters.add(target, call, EXPIRED)
        call.state = TIMED_OUT
        self._counters.ask_timeouts += 1
        call.sender.tell(call)

    def is_in_flight(self, token):
        """True while the request `token` waits for its answer."""
        i = token & _SLOT_MASK
        if token <= 0 or i >= self.capacity or self._call[i] is None:
            return False
        return self._gen[i] == token >> _SLOT_BITS
