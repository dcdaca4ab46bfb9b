# Typed API of cellex.config (the implementation is config.py; a test keeps the two in step).
from typing import Any, Callable, Final

from cellex.actor_ref import ActorRef
from cellex.reset_record import ResetRecord
from cellex.root_escalation_sink import FailureInfo
from cellex.supervision import SupervisorStrategy
from cellex.telemetry import FailureTelemetryObservationConfig, TelemetryContext, _Backend

ROOT_STOP: Final[int]
ROOT_RESET: Final[int]

class ActorSystemConfig:
    """Capacities and hooks of an ActorSystem. The with_*() methods return self (see config.py)."""

    max_actors: int
    mailbox_capacity: int
    snapshot_slots: int
    timer_slots: int
    post_slots: int
    watch_slots: int
    ask_slots: int
    guardian_strategy: SupervisorStrategy
    telemetry: _Backend | None
    telemetry_builder: Callable[[TelemetryContext], _Backend] | None
    observation: FailureTelemetryObservationConfig | None
    event_handler: Callable[[FailureInfo], object] | None
    event_listener: Callable[[FailureInfo], object] | None
    escalation_handler: Callable[[ActorRef, BaseException, int], bool] | None
    extensions: dict[str, Any]
    ticks_ms: Callable[[], Any]  # the port's ticks_ms() returns its own ticks type
    disable_irq: Callable[[], Any]
    enable_irq: Callable[[Any], object]
    root_policy: int
    reset: Callable[[], object] | None
    reset_record: ResetRecord | None
    supervised_telemetry: bool
    watchdog_ms: int
    watchdog: Any
    def __init__(
        self,
        max_actors: int = ...,
        mailbox_capacity: int = ...,
        snapshot_slots: int = ...,
        guardian_strategy: SupervisorStrategy | None = ...,
        timer_slots: int = ...,
        post_slots: int = ...,
        watch_slots: int = ...,
        ask_slots: int = ...,
    ) -> None: ...
    def with_watchdog(self, timeout_ms: int, wdt: Any = ...) -> ActorSystemConfig: ...
    def make_watchdog(self) -> Any: ...
    def with_supervised_failure_telemetry(self, enabled: bool = ...) -> ActorSystemConfig: ...
    def with_reset_record(self, record: ResetRecord) -> ActorSystemConfig: ...
    def with_guardian_strategy(self, strategy: SupervisorStrategy) -> ActorSystemConfig: ...
    def with_failure_telemetry(self, telemetry: _Backend) -> ActorSystemConfig: ...
    def with_failure_telemetry_builder(
        self, builder: Callable[[TelemetryContext], _Backend]
    ) -> ActorSystemConfig: ...
    def with_failure_observation_config(
        self, observation: FailureTelemetryObservationConfig
    ) -> ActorSystemConfig: ...
    def with_event_handler(self, handler: Callable[[FailureInfo], object]) -> ActorSystemConfig: ...
    def with_event_listener(self, listener: Callable[[FailureInfo], object]) -> ActorSystemConfig: ...
    def with_escalation_handler(
        self, handler: Callable[[ActorRef, BaseException, int], bool]
    ) -> ActorSystemConfig: ...
    def with_extension(self, name: str, obj: Any) -> ActorSystemConfig: ...
    def with_clock(self, ticks_ms: Callable[[], int]) -> ActorSystemConfig: ...
    def with_irq(
        self, disable_irq: Callable[[], Any], enable_irq: Callable[[Any], object]
    ) -> ActorSystemConfig: ...
    def with_root_policy(
        self, policy: int, reset: Callable[[], object] | None = ...
    ) -> ActorSystemConfig: ...
