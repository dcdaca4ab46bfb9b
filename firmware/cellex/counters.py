# cellex.counters: the system-wide counters a user reads to see what happened.
# MIT licence.
#
# Plain int attributes: incrementing a small int allocates nothing.


class SystemCounters:
    """Counts kept by an ActorSystem (per-actor counts live on each ActorRef).

    delivered           messages handed to receive()
    dead_letters        tells refused: mailbox full, or actor stopped
    failures            exceptions raised by receive() (or on_restart())
    restarts            actors restarted in place (each actor in a scope counts)
    resumes, stops      supervisor RESUME / STOP decisions applied
    escalations         supervisor hops taken by failures (ESCALATE decisions,
                        including restart-intensity exceeded)
    intensity_exceeded  restarts refused by the restart-intensity limit
    root_failures       failures that reached the RootEscalationSink
    handled_by_handler  failures absorbed by the custom escalation handler
    handler_errors      event_handler / escalation-handler calls that raised
    listener_errors     event_listener calls that raised
    telemetry_calls     back-end on_failure() calls made by the root
    telemetry_errors    back-end calls that raised (swallowed)
    builder_errors      telemetry builders that raised at start (Noop used instead)
    snapshots_dropped   root failures with no free snapshot slot (telemetry skipped)
    nested_dropped      failures reaching the root while it was already this deep
                        in nested failures (supervision still acts)
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
        self.handled_by_handler = 0
        self.handler_errors = 0
        self.listener_errors = 0
        self.telemetry_calls = 0
        self.telemetry_errors = 0
        self.builder_errors = 0
        self.snapshots_dropped = 0
        self.nested_dropped = 0

    def as_dict(self):
        """All counters by name (allocates; for reports)."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
