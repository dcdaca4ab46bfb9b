# cellex.counters: the system-wide counters a user reads to see what happened.
# MIT licence.
#
# Plain int attributes: incrementing a small int allocates nothing.


class SystemCounters:
    """Counts kept by an ActorSystem (per-actor counts live on each ActorRef).

    delivered           messages handed to receive()
    dead_letters        messages that reached no one: tells refused (mailbox
                        full, actor stopped), mail waiting when its actor
                        stopped, late replies, expired requests (by reason:
                        ActorSystem.dead_letters)
    failures            exceptions raised by receive() or on_restart() (not Actor.exit())
    restarts            actors restarted in place (each actor in a scope counts)
    resumes, stops      supervisor RESUME / STOP decisions applied
    escalations         supervisor hops taken by failures (ESCALATE decisions,
                        including restart-intensity exceeded)
    intensity_exceeded  restarts refused by the restart-intensity limit
    root_failures       failures that reached the RootEscalationSink
    supervised          failures a supervisor decided below the root
                        (restarted / resumed / stopped), each reported to the
                        event listener (and telemetry, when configured)
    hook_errors         on_group_restart() calls that raised
    freed               dynamic actors whose name and slot were freed on stop
    handled_by_handler  failures absorbed by the custom escalation handler
    handler_errors      event_handler / escalation-handler calls that raised
    listener_errors     event_listener calls that raised
    telemetry_calls     back-end on_failure() calls made by the root
    telemetry_errors    back-end calls that raised (swallowed)
    builder_errors      telemetry builders that raised at start (the back-end
                        set by with_failure_telemetry(), else the default, stays)
    snapshots_dropped   root failures with no free snapshot slot (telemetry skipped)
    nested_dropped      failures reaching the root while it was already this deep
                        in nested failures (supervision still acts)
    timer_fires         timer messages sent (each firing of a periodic timer counts)
    timer_overruns      periodic ticks skipped because the loop was late by a
                        whole period or more (the phase is kept)
    timers_full         send_after() / send_every() refused: every slot in use
    asks                requests sent by ask()
    replies             requests answered in time
    ask_timeouts        requests that timed out
    asks_full           ask() refused: every ask slot in use
    posts               messages posted through post() (interrupt-safe)
    posts_dropped       posts refused: the post ring was full
    idle_ms             ms run_forever() / run_async() spent in the idle hook
    loop_ms             ms spent in run_forever() / run_async() (CPU load:
                        1 - idle_ms / loop_ms)
    """

    def __init__(self):
        self.delivered = 0
        self.dead_letters = 0
        self.failures = 0
        self.restarts = 0
        self.resumes = 0
        self.stops = 0
        self.escalations = 0
        self.intensity_exceeded = 0
        self.root_failures = 0
        self.supervised = 0
        self.hook_errors = 0
        self.freed = 0
        self.handled_by_handler = 0
        self.handler_errors = 0
        self.listener_errors = 0
        self.telemetry_calls = 0
        self.telemetry_errors = 0
        self.builder_errors = 0
        self.snapshots_dropped = 0
        self.nested_dropped = 0
        self.timer_fires = 0
        self.timer_overruns = 0
        self.timers_full = 0
        self.asks = 0
        self.replies = 0
        self.ask_timeouts = 0
        self.asks_full = 0
        self.posts = 0
        self.posts_dropped = 0
        self.idle_ms = 0
        self.loop_ms = 0
