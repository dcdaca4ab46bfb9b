# cellex.metrics: MetricsSink, preallocated counters and duration histograms for runtime events.
# MIT licence.
from cellex.compat import const, micropython

# Events
TELEMETRY_INVOKED = const(0)
_EVENTS = const(1)

# Histogram bucket upper bounds in microseconds; the last bucket takes the rest.
BUCKET_BOUNDS_US = (10, 50, 100, 500, 1000, 5000)
_BUCKETS = const(7)


class MetricsSink:
    """Counts events and, when given a duration, its total / max / histogram.

    For event e: count[e] (every record), timed[e] (records with a duration),
    total_ms[e] + total_us_rem[e] (summed duration, split so the sum never
    needs a big int on a 32-bit board), max_us[e], and
    histogram[e * 7 + b] for bucket b of BUCKET_BOUNDS_US (+ overflow).
    record() allocates nothing.
    """

    def __init__(self):
        self.count = [0] * _EVENTS
        self.timed = [0] * _EVENTS
        self.total_ms = [0] * _EVENTS
        self.total_us_rem = [0] * _EVENTS
        self.max_us = [0] * _EVENTS
        self.histogram = [0] * (_EVENTS * _BUCKETS)

    @micropython.native
    def record(self, event, duration_us=-1):
        """Count `event`; when duration_us >= 0, add it to the timing figures."""
        self.count[event] += 1
        if duration_us < 0:
            return
        self.timed[event] += 1
        rem = self.total_us_rem[event] + duration_us
        if rem >= 1000:
            self.total_ms[event] += rem // 1000
            rem %= 1000
        self.total_us_rem[event] = rem
        if duration_us > self.max_us[event]:
            self.max_us[event] = duration_us
        b = 0
        for bound in BUCKET_BOUNDS_US:
            if duration_us <= bound:
                break
            b += 1
        self.histogram[event * _BUCKETS + b] += 1

    def total_us(self, event):
        """Summed duration in µs (may be a big int: not for hot paths)."""
        return self.total_ms[event] * 1000 + self.total_us_rem[event]

    def reset(self):
        """Zero every figure."""
        for lst in (self.count, self.timed, self.total_ms, self.total_us_rem, self.max_us, self.histogram):
            for i in range(len(lst)):
                lst[i] = 0
