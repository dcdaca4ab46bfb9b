# Typed API of cellex.boot_frame (the implementation is boot_frame.py; a test keeps the two in step).
from typing import Any, Final

from cellex.reset_record import ResetRecord

CAUSE_UNKNOWN: Final[int]
CAUSE_POWER_ON: Final[int]
CAUSE_HARD_RESET: Final[int]
CAUSE_WATCHDOG: Final[int]
CAUSE_DEEP_SLEEP: Final[int]
CAUSE_SOFT_RESET: Final[int]
CAUSE_BROWN_OUT: Final[int]
CAUSE_NAMES: Final[tuple[str, ...]]

def reset_cause() -> int: ...
def encode_boot_frame(
    timestamp_ms: int,
    cause: int,
    valid: bool,
    boot_count: int,
    running: tuple[int, str] | None = ...,
    failure: tuple[int, str, str, int, int, int] | None = ...,
    seq: int = ...,
    start: bool = ...,
) -> bytes: ...
def boot_frame(
    record: ResetRecord,
    system: Any = ...,
    cause: int | None = ...,
    timestamp_ms: int | None = ...,
    seq: int = ...,
    start: bool = ...,
) -> bytes: ...
def send_boot_frame(telemetry: Any, record: ResetRecord, system: Any = ..., cause: int | None = ...) -> bool:
    """Send the boot frame as the first frame of `telemetry`'s stream (a UartFailureTelemetry)."""
