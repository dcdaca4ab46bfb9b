# Typed API of cellex.supervision (the implementation is supervision.py; a test keeps the two in step).
from typing import Callable, Final

RESUME: Final[int]
RESTART: Final[int]
STOP: Final[int]
ESCALATE: Final[int]

ONE_FOR_ONE: Final[int]
ONE_FOR_ALL: Final[int]
REST_FOR_ONE: Final[int]

DECISION_NAMES: Final[tuple[str, ...]]

PERMANENT: Final[int]
TRANSIENT: Final[int]
TEMPORARY: Final[int]
RESTART_TYPE_NAMES: Final[tuple[str, ...]]

PER_SUPERVISOR: Final[int]
PER_CHILD: Final[int]

NORMAL: Final[str]
SHUTDOWN: Final[str]

class Exit(Exception):
    """Raised by Actor.exit(): the actor ends normally (not a failure)."""

EXIT: Final[Exit]

def check_restart_type(restart: int) -> None: ...
def check_directive(directive: int) -> None: ...

class SupervisorStrategy:
    """How a supervisor treats its children's failures (see supervision.py)."""

    directive: int
    scope: int
    max_restarts: int
    within_ms: int
    backoff_min_ms: int
    backoff_max_ms: int
    decider: Callable[[BaseException], int] | None
    intensity: int
    _plain: bool
    def __init__(
        self,
        directive: int = ...,
        scope: int = ...,
        max_restarts: int = ...,
        within_ms: int = ...,
        backoff_min_ms: int = ...,
        backoff_max_ms: int = ...,
        decider: Callable[[BaseException], int] | None = ...,
        intensity: int = ...,
    ) -> None: ...
    def decide(self, error: BaseException) -> int: ...
    def backoff_ms(self, shift: int) -> int: ...

class RestartHistory:
    """Recent restart times and the backoff series of one supervisor or child (runtime bookkeeping)."""

    last: int
    shift: int
    def __init__(self, max_restarts: int) -> None: ...
    def clear(self) -> None: ...
    def allow(self, now: int, strategy: SupervisorStrategy) -> bool: ...
    def backoff(self, now: int, strategy: SupervisorStrategy) -> int: ...
