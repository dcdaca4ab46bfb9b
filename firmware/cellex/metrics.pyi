# Typed API of cellex.metrics (the implementation is metrics.py; a test keeps the two in step).
from typing import Final

TELEMETRY_INVOKED: Final[int]
BUCKET_BOUNDS_US: Final[tuple[int, ...]]

class MetricsSink:
    """Preallocated counts, durations and a histogram per event (TELEMETRY_INVOKED)."""

    count: list[int]
    timed: list[int]
    total_ms: list[int]
    total_us_rem: list[int]
    max_us: list[int]
    histogram: list[int]
    def __init__(self) -> None: ...
    def record(self, event: int, duration_us: int = ...) -> None: ...
    def total_us(self, event: int) -> int: ...
    def reset(self) -> None: ...
