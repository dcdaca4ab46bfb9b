# cellex.timers: Timers, messages delivered to an actor after a delay or every period.
# MIT licence.
#
# A fixed number of slots made at system construction (ActorSystemConfig
# timer_slots). Each slot's deadline lives in the system's Deadlines (the
# same mechanism as restart backoff), in the slots after the actors' ones,
# so the scheduler still asks one question per turn however many timers and
# actors there are. Arming, cancelling and firing allocate nothing; running
# out of slots raises TIMERS_FULL (a RuntimeError made once, at import) and
# counts timers_full.
#
# A handle is a small int: (generation << 8) | slot. The generation moves on
# each time the slot is armed, so a stale handle (its timer fired or was
# cancelled, and the slot went to someone else) cancels nothing.
#
# Periodic timers do not drift: each deadline is the previous deadline plus
# the period, not "now" plus the period. When the loop was held up past one
# or more whole periods, those ticks are skipped (one message, not a burst),
# the phase is kept, and the skipped ticks are counted in timer_overruns.
#
# Not safe from a hard interrupt handler: post a message (ActorSystem.post)
# and arm the timer from an actor.
from cellex.compat import clear_traceback, const, micropython, ticks_add, ticks_diff

_SLOT_BITS = const(8)
_SLOT_MASK = const(0xFF)
_GEN_BITS = const(21)
_GEN_MAX = const(0x1FFFFF)  # (1 << _GEN_BITS) - 1: handles stay below 2**29, small ints on every port
MAX_TIMER_SLOTS = const(255)

# Raised when every slot is in use (made once; its traceback is cleared first).
TIMERS_FULL = RuntimeError("cellex: every timer slot is in use (ActorSystemConfig timer_slots)")


class Timers:
    """`capacity` timer slots whose deadlines are slots offset.. of `deadlines`.

    Read-only: `armed` (timers armed), `capacity`. Use the ActorSystem's
    send_after() / send_every() / cancel() / cancel_timers().
    """

    def __init__(self, capacity, deadlines, offset, counters):
        if not 0 <= capacity <= MAX_TIMER_SLOTS:
            raise ValueError("timer_slots must be 0..%d, got %d" % (MAX_TIMER_SLOTS, capacity))
        self._ref = [None] * capacity  # target ActorRef; None = free slot
        self._msg = [None] * capacity
        self._period = [0] * capacity  # 0: one-shot
        self._gen = [0] * capacity
        self.capacity = capacity
        self.armed = 0
        self._deadlines = deadlines
        self._offset = offset
        self._counters = counters

    @micropython.native
    def arm(self, ref, msg, at, period):
        """Arm a free slot: deliver `msg` to `ref` at ticks `at`, then every `period` ms (0: once).

        Returns the handle. Raises TIMERS_FULL when no slot is free.
        """
        refs = self._ref
        i = 0
        cap = self.capacity
        while i < cap:
            if refs[i] is None:
                break
            i += 1
        if i == cap:
            self._counters.timers_full += 1
            e = TIMERS_FULL
            clear_traceback(e)
            raise e
        gen = self._gen[i] + 1
        # Past _GEN_MAX. Tested by a shift: native code frozen for ARMv6-M
        # (RP2040) misloads int literals of 2**15 or more (see reset_record).
        if gen >> _GEN_BITS:
            gen = 1
        self._gen[i] = gen
        refs[i] = ref
        self._msg[i] = msg
        self._period[i] = period
        self.armed += 1
        self._deadlines.arm(self._offset + i, at)
        return (gen << _SLOT_BITS) | i

    @micropython.native
    def cancel(self, handle):
        """Cancel the timer of `handle`; False when it fired (one-shot), was cancelled, or is stale."""
        if not self.is_armed(handle):
            return False
        i = handle & _SLOT_MASK
        self._free(i)
        self._deadlines.cancel(self._offset + i)
        return True

    @micropython.native
    def cancel_for(self, ref):
        """Cancel every timer that delivers to `ref`; returns how many."""
        refs = self._ref
        n = 0
        for i in range(self.capacity):
            if refs[i] is ref:
                self._free(i)
                self._deadlines.cancel(self._offset + i)
                n += 1
        return n

    def is_armed(self, handle):
        """True while the timer of `handle` is armed (not fired if one-shot, not cancelled, not stale)."""
        i = handle & _SLOT_MASK
        if handle <= 0 or i >= self.capacity or self._ref[i] is None:
            return False
        return self._gen[i] == handle >> _SLOT_BITS

    @micropython.native
    def fire(self, i, now):
        """Slot `i`'s deadline passed (it was popped from the deadlines): deliver, re-arm if periodic."""
        ref = self._ref[i]
        msg = self._msg[i]
        period = self._period[i]
        counters = self._counters
        counters.timer_fires += 1
        if period:
            slot = self._offset + i
            at = ticks_add(self._deadlines._at[slot], period)
            late = ticks_diff(now, at)
            if late >= 0:
                skipped = late // period + 1
                counters.timer_overruns += skipped
                at = ticks_add(at, skipped * period)
            self._deadlines.arm(slot, at)
        else:
            self._free(i)
        ref.tell(msg)

    @micropython.native
    def _free(self, i):
        self._ref[i] = None
        self._msg[i] = None
        self.armed -= 1
