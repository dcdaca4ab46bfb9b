# Typed API of cellex.root_escalation_sink (the implementation is root_escalation_sink.py; a test keeps
# the two in step).
from typing import Any, Callable, Final

from cellex.actor_ref import ActorRef
from cellex.config import ActorSystemConfig
from cellex.reset_record import ResetRecord
from cellex.snapshot import SnapshotPool
from cellex.telemetry import FailureTelemetryObservationConfig, TelemetryContext, _Backend

ROOT_STOP: Final[int]
ROOT_RESET: Final[int]
MAX_NESTING: Final[int]

class FailureInfo:
    """A failure as a listener sees it; valid only during the call that receives it (see the .py)."""

    actor: ActorRef
    subject: ActorRef
    error: BaseException
    decision: int
    stage: int
    sequence: int
    timestamp_ms: int
    def __init__(self) -> None: ...

class RootEscalationSink:
    """The end of every escalation: handler, listener, telemetry, root policy (system.root)."""

    event_handler: Callable[[FailureInfo], object] | None
    event_listener: Callable[[FailureInfo], object] | None
    observation: FailureTelemetryObservationConfig
    telemetry: _Backend
    policy: int
    reset_record: ResetRecord | None
    builder_error: BaseException | None
    sequence: int
    supervised_sequence: int
    reporting: bool
    pool: SnapshotPool
    # system: Any, as system.py passes itself (it is type-checked against these stubs, where
    # its own class and the stub's ActorSystem are two types).
    def __init__(self, system: Any, config: ActorSystemConfig) -> None: ...
    def start(self, slots: int) -> None: ...
    def apply_builder(self, ctx: TelemetryContext, builder: Callable[[TelemetryContext], Any]) -> None: ...
    def on_failure(self, actor: ActorRef, subject: ActorRef, error: BaseException, stage: int) -> None: ...
    def report(
        self, actor: ActorRef, subject: ActorRef, error: BaseException, decision: int, stage: int
    ) -> None: ...
    def flush(self) -> None: ...
