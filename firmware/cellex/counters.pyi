# Typed API of cellex.counters (the implementation is counters.py; a test keeps the two in step).

class SystemCounters:
    """Counts kept by an ActorSystem (system.counters); what each counts: counters.py."""

    delivered: int
    dead_letters: int
    failures: int
    restarts: int
    resumes: int
    stops: int
    escalations: int
    intensity_exceeded: int
    root_failures: int
    supervised: int
    hook_errors: int
    freed: int
    handled_by_handler: int
    handler_errors: int
    listener_errors: int
    telemetry_calls: int
    telemetry_errors: int
    builder_errors: int
    snapshots_dropped: int
    nested_dropped: int
    timer_fires: int
    timer_overruns: int
    timers_full: int
    asks: int
    replies: int
    ask_timeouts: int
    asks_full: int
    posts: int
    posts_dropped: int
    idle_ms: int
    loop_ms: int
    def __init__(self) -> None: ...
