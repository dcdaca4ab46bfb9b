# Typed API of cellex.snapshot (the implementation is snapshot.py; a test keeps the two in step).
from typing import Final

from cellex.root_escalation_sink import FailureInfo

MAX_FAILURE_SNAPSHOT_TAGS: Final[int]
DESCRIPTION_CAPACITY: Final[int]

class TelemetryTag:
    """A key/value pair held by reference (no copies of the strings)."""

    key: str
    value: str
    def __init__(self, key: str = ..., value: str = ...) -> None: ...

class TaggedError(Exception):
    """Base class for exceptions that carry telemetry tags of their own: (key, value) str pairs."""

    telemetry_tags: tuple[tuple[str, str], ...]

class FailureSnapshot:
    """A read-only record of one failure, valid only during on_failure() (see snapshot.py)."""

    sequence: int
    timestamp_ms: int
    actor_id: int
    path: tuple[str, ...]
    error_type: str
    reason: str
    description_len: int
    description_truncated: bool
    component: str
    endpoint: str
    transport: str
    stage: int
    tag_count: int
    tags_dropped: int
    _slot: int
    @property
    def description(self) -> str:
        """The description as a str (allocates; for hosts and tests)."""
    def __init__(self) -> None: ...
    def description_bytes(self) -> memoryview: ...
    def tag(self, i: int) -> TelemetryTag: ...
    def tags(self) -> list[tuple[str, str]]: ...
    def add_tag(self, key: str, value: str) -> None: ...
    def set_description(self, text: str) -> None: ...
    def capture(self, info: FailureInfo) -> None: ...
    def copy_from(self, other: FailureSnapshot) -> None: ...
    def clear(self) -> None: ...

class SnapshotPool:
    """A fixed set of FailureSnapshot slots created up front."""

    capacity: int
    def __init__(self, slots: int) -> None: ...
    def acquire(self) -> FailureSnapshot | None: ...
    def release(self, snapshot: FailureSnapshot) -> None: ...
    def in_use(self) -> int: ...
