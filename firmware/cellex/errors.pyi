# Typed API of cellex.errors (the implementation is errors.py; a test keeps the two in step).
from typing import Final, TypeVar

_E = TypeVar("_E", bound=BaseException)

EMERGENCY_BUFFER_BYTES: Final[int]

def reserve_emergency_buffer() -> None: ...
def preallocated(error: _E) -> _E:
    """Return `error` made safe to raise repeatedly: its traceback never grows."""
