# cellex.deadlines: Deadlines, the earliest of a fixed set of ticks_ms deadlines.
# MIT licence.
#
# The scheduler asks one question per turn while any deadline is armed: has
# `next` (the earliest) passed? One clock read and one ticks_diff, however
# many slots there are; the slots are walked only when the earliest has
# passed (pop_due), or when a deadline is cancelled or moved later. Restart
# backoff uses one slot per actor; timers can take slots of their own.
# Nothing here allocates (a list of small ints and a bytearray made once).
from cellex.compat import micropython, ticks_diff


class Deadlines:
    """`capacity` slots, each armed with a ticks_ms deadline or not.

    Read-only: `armed` (slots armed), `next` (the earliest armed deadline,
    meaningful while armed > 0). Deadlines must lie within half the ticks
    period of each other (ticks_diff), as every ticks deadline does.
    """

    def __init__(self, capacity):
        self._at = [0] * capacity
        self._on = bytearray(capacity)
        self.capacity = capacity
        self.armed = 0
        self.next = 0

    def arm(self, slot, at):
        """Arm `slot` for `at` (re-arming moves it, earlier or later)."""
        if self._on[slot]:
            self._at[slot] = at
            self._earliest()
            return
        self._on[slot] = 1
        self._at[slot] = at
        self.armed += 1
        if self.armed == 1 or ticks_diff(at, self.next) < 0:
            self.next = at

    def cancel(self, slot):
        """Disarm `slot` (nothing happens if it is not armed)."""
        if self._on[slot]:
            self._on[slot] = 0
            self.armed -= 1
            self._earliest()

    def is_armed(self, slot):
        return self._on[slot] == 1

    def due(self, now):
        """True when an armed deadline is at or before `now`."""
        return self.armed != 0 and ticks_diff(now, self.next) >= 0

    @micropython.native
    def pop_due(self, now):
        """Disarm and return the lowest slot whose deadline has passed, or -1."""
        if self.armed == 0 or ticks_diff(now, self.next) < 0:
            return -1
        at = self._at
        on = self._on
        found = -1
        best = 0
        have = False
        for i in range(self.capacity):
            if on[i]:
                t = at[i]
                if found < 0 and ticks_diff(now, t) >= 0:
                    found = i
                    on[i] = 0
                elif not have or ticks_diff(t, best) < 0:
                    best = t
                    have = True
        if found >= 0:
            self.armed -= 1
        self.next = best
        return found

    @micropython.native
    def _earliest(self):
        at = self._at
        on = self._on
        best = 0
        have = False
        for i in range(self.capacity):
            if on[i] and (not have or ticks_diff(at[i], best) < 0):
                best = at[i]
                have = True
        self.next = best
