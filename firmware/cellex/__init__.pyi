# Typed API of the cellex package: the names `import cellex` serves lazily (__init__.py's _attrs);
# a test keeps this list equal to _attrs.

from cellex.actor import Actor as Actor
from cellex.actor_path import ActorPath as ActorPath
from cellex.actor_ref import ActorRef as ActorRef
from cellex.ask import Call as Call
from cellex.config import ActorSystemConfig as ActorSystemConfig
from cellex.dead_letters import DeadLetters as DeadLetters
from cellex.deadlines import Deadlines as Deadlines
from cellex.escalation import CompositeEscalationSink as CompositeEscalationSink
from cellex.metrics import TELEMETRY_INVOKED as TELEMETRY_INVOKED
from cellex.metrics import MetricsSink as MetricsSink
from cellex.post import PostRing as PostRing
from cellex.pubsub import Topic as Topic
from cellex.root_escalation_sink import (
    ROOT_RESET as ROOT_RESET,
)
from cellex.root_escalation_sink import (
    ROOT_STOP as ROOT_STOP,
)
from cellex.root_escalation_sink import (
    FailureInfo as FailureInfo,
)
from cellex.root_escalation_sink import (
    RootEscalationSink as RootEscalationSink,
)
from cellex.scheduler import ReadyQueueScheduler as ReadyQueueScheduler
from cellex.snapshot import (
    MAX_FAILURE_SNAPSHOT_TAGS as MAX_FAILURE_SNAPSHOT_TAGS,
)
from cellex.snapshot import (
    FailureSnapshot as FailureSnapshot,
)
from cellex.snapshot import (
    TaggedError as TaggedError,
)
from cellex.snapshot import (
    TelemetryTag as TelemetryTag,
)
from cellex.stash import Stash as Stash
from cellex.supervision import (
    ESCALATE as ESCALATE,
)
from cellex.supervision import (
    EXIT as EXIT,
)
from cellex.supervision import (
    NORMAL as NORMAL,
)
from cellex.supervision import (
    ONE_FOR_ALL as ONE_FOR_ALL,
)
from cellex.supervision import (
    ONE_FOR_ONE as ONE_FOR_ONE,
)
from cellex.supervision import (
    PER_CHILD as PER_CHILD,
)
from cellex.supervision import (
    PER_SUPERVISOR as PER_SUPERVISOR,
)
from cellex.supervision import (
    PERMANENT as PERMANENT,
)
from cellex.supervision import (
    REST_FOR_ONE as REST_FOR_ONE,
)
from cellex.supervision import (
    RESTART as RESTART,
)
from cellex.supervision import (
    RESUME as RESUME,
)
from cellex.supervision import (
    SHUTDOWN as SHUTDOWN,
)
from cellex.supervision import (
    STOP as STOP,
)
from cellex.supervision import (
    TEMPORARY as TEMPORARY,
)
from cellex.supervision import (
    TRANSIENT as TRANSIENT,
)
from cellex.supervision import (
    SupervisorStrategy as SupervisorStrategy,
)
from cellex.system import ActorSystem as ActorSystem
from cellex.telemetry import (
    NOOP_FAILURE_TELEMETRY as NOOP_FAILURE_TELEMETRY,
)
from cellex.telemetry import (
    FailureTelemetry as FailureTelemetry,
)
from cellex.telemetry import (
    FailureTelemetryObservationConfig as FailureTelemetryObservationConfig,
)
from cellex.telemetry import (
    NoopFailureTelemetry as NoopFailureTelemetry,
)
from cellex.telemetry import (
    TelemetryContext as TelemetryContext,
)
from cellex.telemetry import (
    default_failure_telemetry as default_failure_telemetry,
)
from cellex.telemetry_fanout import FanOutFailureTelemetry as FanOutFailureTelemetry
from cellex.telemetry_ring import RingBufferFailureTelemetry as RingBufferFailureTelemetry
from cellex.telemetry_uart import UartFailureTelemetry as UartFailureTelemetry
from cellex.timers import TIMERS_FULL as TIMERS_FULL
from cellex.timers import Timers as Timers
from cellex.watch import Terminated as Terminated
from cellex.watch import Watches as Watches

__version__: str
