# cellex.deadlines: Deadlines, the earliest of a fixed set of ticks_ms deadlines.
# MIT licence.
#
# One mechanism for every deadline in the system: restart backoff takes one
# slot per actor, timers (cellex.timers) take the slots after those. The
# scheduler asks one question per turn while any deadline is armed: has
# `next` (the earliest) passed? One clock read and one ticks_diff, however
# many slots there are. The armed slots are kept in a dense list, so popping
# a due slot, cancelling or moving one walks the ARMED slots only: a timer
# firing costs the same with 4 actors or 64.
# Nothing here allocates (lists of small ints made once). Not safe from a
# hard interrupt handler (use ActorSystem.post()).
from cellex.compat import micropython, ticks_diff


class Deadlines:
    """`capacity` slots, each armed with a ticks_ms deadline or not.

    Read-only: `armed` (slots armed), `next` (the earliest armed deadline,
    meaningful while armed > 0). Deadlines must lie within half the ticks
    period of each other (ticks_diff), as every ticks deadline does.
    """

    def __init__(self, capacity):
        self._at = [0] * capacity  # deadline of each slot (kept after it is popped)
        self._pos = [-1] * capacity  # index of each armed slot in _list, -1 if not armed
        self._list = [0] * capacity  # the armed slots: _list[0:armed]
        self.capacity = capacity
        self.armed = 0
        self.next = 0

    @micropython.native
    def arm(self, slot, at):
        """Arm `slot` for `at` (re-arming moves it, earlier or later)."""
        self._at[slot] = at
        if self._pos[slot] >= 0:
            self._earliest()
            return
        n = self.armed
        self._list[n] = slot
        self._pos[slot] = n
        self.armed = n + 1
        if n == 0 or ticks_diff(at, self.next) < 0:
            self.next = at

    @micropython.native
    def cancel(self, slot):
        """Disarm `slot` (nothing happens if it is not armed)."""
        if self._pos[slot] >= 0:
            self._remove(slot)
            if ticks_diff(self._at[slot], self.next) <= 0:
                self._earliest()

    def is_armed(self, slot):
        return self._pos[slot] >= 0

    def at(self, slot):
        """The deadline `slot` was last armed for (still there after it fired)."""
        return self._at[slot]

    def due(self, now):
        """True when an armed deadline is at or before `now`."""
        return self.armed != 0 and ticks_diff(now, self.next) >= 0

    @micropython.native
    def pop_due(self, now):
        """Disarm and return the lowest slot whose deadline has passed, or -1."""
        if self.armed == 0 or ticks_diff(now, self.next) < 0:
            return -1
        at = self._at
        lst = self._list
        n = self.armed
        found = -1
        for j in range(n):
            s = lst[j]
            if (found < 0 or s < found) and ticks_diff(now, at[s]) >= 0:
                found = s
        if found >= 0:
            self._remove(found)
        self._earliest()
        return found

    @micropython.native
    def _remove(self, slot):
        # Swap the last armed slot into this one's place.
        pos = self._pos
        lst = self._list
        j = pos[slot]
        n = self.armed - 1
        last = lst[n]
        lst[j] = last
        pos[last] = j
        pos[slot] = -1
        self.armed = n

    @micropython.native
    def _earliest(self):
        at = self._at
        lst = self._list
        n = self.armed
        if n == 0:
            return
        best = at[lst[0]]
        for j in range(1, n):
            t = at[lst[j]]
            if ticks_diff(t, best) < 0:
                best = t
        self.next = best
