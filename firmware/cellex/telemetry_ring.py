# cellex.telemetry_ring: RingBufferFailureTelemetry, the last N failures kept in RAM.
# MIT licence.
from cellex.snapshot import FailureSnapshot
from cellex.telemetry import FailureTelemetry


class RingBufferFailureTelemetry(FailureTelemetry):
    """Keeps copies of the latest `capacity` failures in preallocated slots.

    When full, the oldest copy is overwritten and counted in `overwritten`.
    `recorded` counts every failure seen. Read with newest(i) / oldest(i)
    (i = 0 is the newest / oldest), or drain(fn), which calls fn(snapshot)
    oldest first and empties the ring. None of these allocate.
    """

    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("ring buffer needs capacity >= 1, got %d" % capacity)
        self._slots = [FailureSnapshot() for _ in range(capacity)]
        self.capacity = capacity
        self._next = 0
        self._count = 0
        self.recorded = 0
        self.overwritten = 0

    def __len__(self):
        return self._count

    def on_failure(self, snapshot):
        i = self._next
        self._slots[i].copy_from(snapshot)
        i += 1
        self._next = 0 if i == self.capacity else i
        self.recorded += 1
        if self._count == self.capacity:
            self.overwritten += 1
        else:
            self._count += 1

    def newest(self, i=0):
        """The i-th newest kept failure (a slot: copy what you need to keep)."""
        if not 0 <= i < self._count:
            raise IndexError("ring index out of range")
        j = self._next - 1 - i
        if j < 0:
            j += self.capacity
        return self._slots[j]

    def oldest(self, i=0):
        """The i-th oldest kept failure."""
        return self.newest(self._count - 1 - i)

    def drain(self, fn):
        """Call fn(snapshot) for each kept failure, oldest first, then empty the ring.

        Returns how many were drained.
        """
        n = self._count
        for i in range(n):
            fn(self.oldest(i))
        self._count = 0
        return n

    def clear(self):
        """Forget every kept failure (counters stay)."""
        self._count = 0
