# Typed API of cellex.telemetry_uart (the implementation is telemetry_uart.py; a test keeps the two in step).
from typing import Any, Callable, Final, Protocol

from cellex.root_escalation_sink import FailureInfo
from cellex.snapshot import FailureSnapshot

BUF_SIZE: Final[int]

class _Writer(Protocol):
    # A machine.UART, a file, a socket, a pyserial port: write() returns the bytes taken.
    def write(self, buf: Any, /) -> int | None: ...

class UartFailureTelemetry:
    """Failure telemetry back-end writing wire-format frames to `writer` (counters: telemetry_uart.py)."""

    failures: int
    supervised: int
    frames_sent: int
    frames_dropped: int
    frames_torn: int
    drops_reported: int
    drops_pending: int
    heartbeats_dropped: int
    write_errors: int
    encode_errors: int
    bytes_sent: int
    def __init__(self, writer: _Writer, clock: Callable[[], int] = ..., sized: bool | None = ...) -> None: ...
    def on_failure(self, snapshot: FailureSnapshot) -> None: ...
    def on_supervised(self, info: FailureInfo) -> None: ...
    def send_encoded(self, encode: Callable[[bytearray, int, bool], int]) -> bool: ...
    def heartbeat(self, snapshots_dropped: int = ...) -> bool: ...
    def flush(self) -> None: ...
