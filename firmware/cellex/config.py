# cellex.config: ActorSystemConfig, capacities and the injection points, set before start.
# MIT licence.
from cellex.compat import disable_irq as _disable_irq
from cellex.compat import enable_irq as _enable_irq
from cellex.compat import ticks_ms as _ticks_ms
from cellex.root_escalation_sink import ROOT_RESET, ROOT_STOP
from cellex.supervision import SupervisorStrategy


class ActorSystemConfig:
    """Capacities and hooks of an ActorSystem. The with_*() methods return self.

    max_actors        actors the system can hold (the ready queue's size)
    mailbox_capacity  default mailbox slots per actor (spawn may override)
    snapshot_slots    preallocated FailureSnapshot slots for the root
    guardian_strategy how top-level actors are supervised (default: OTP's
                      RESTART, one-for-one, 1 restart in 5 s, then the root)
    timer_slots       timers that can be armed at once (send_after / send_every)
    post_slots        messages an interrupt handler can post (post()) before the
                      scheduler drains them
    watch_slots       death watches in place at once (ActorSystem.watch)
    ask_slots         requests in flight at once (ActorSystem.ask, cellex.ask)
    """

    def __init__(
        self,
        max_actors=16,
        mailbox_capacity=8,
        snapshot_slots=2,
        guardian_strategy=None,
        timer_slots=8,
        post_slots=8,
        watch_slots=8,
        ask_slots=4,
    ):
        if max_actors < 1:
            raise ValueError("max_actors must be >= 1, got %d" % max_actors)
        if mailbox_capacity < 1:
            raise ValueError("mailbox_capacity must be >= 1, got %d" % mailbox_capacity)
        if snapshot_slots < 1:
            raise ValueError("snapshot_slots must be >= 1, got %d" % snapshot_slots)
        if not 0 <= timer_slots <= 255:
            raise ValueError("timer_slots must be 0..255, got %d" % timer_slots)
        if post_slots < 1:
            raise ValueError("post_slots must be >= 1, got %d" % post_slots)
        if watch_slots < 0:
            raise ValueError("watch_slots must be >= 0, got %d" % watch_slots)
        if not 0 <= ask_slots <= 255:
            raise ValueError("ask_slots must be 0..255, got %d" % ask_slots)
        self.watch_slots = watch_slots
        self.ask_slots = ask_slots
        self.timer_slots = timer_slots
        self.post_slots = post_slots
        self.disable_irq = _disable_irq
        self.enable_irq = _enable_irq
        self.max_actors = max_actors
        self.mailbox_capacity = mailbox_capacity
        self.snapshot_slots = snapshot_slots
        self.guardian_strategy = SupervisorStrategy()
        if guardian_strategy is not None:
            self.with_guardian_strategy(guardian_strategy)
        self.telemetry = None
        self.telemetry_builder = None
        self.observation = None
        self.event_handler = None
        self.event_listener = None
        self.escalation_handler = None
        self.extensions = {}
        self.ticks_ms = _ticks_ms
        self.root_policy = ROOT_STOP
        self.reset = None
        self.reset_record = None
        self.supervised_telemetry = False
        self.watchdog_ms = 0
        self.watchdog = None

    def with_watchdog(self, timeout_ms, wdt=None):
        """Reset the board when dispatching stops making progress for `timeout_ms`.

        At system.start() a watchdog is made (machine.WDT(timeout=timeout_ms),
        unless `wdt`, an object with feed(), is given) and fed at each
        run() and before each message, so an actor whose receive() never
        returns lets it reset the board. With a reset record
        (with_reset_record), the actor in receive() is kept in it before each
        message, and the next boot's frame names it (cellex.boot_frame). Start
        run_forever() (or your loop calling run()) within timeout_ms of
        start(), and keep idle hooks shorter than it.
        """
        if timeout_ms <= 0:
            raise ValueError("watchdog timeout must be > 0 ms, got %d" % timeout_ms)
        if wdt is not None and not callable(getattr(wdt, "feed", None)):
            raise ValueError("watchdog needs a feed() method: %r" % (wdt,))
        self.watchdog_ms = timeout_ms
        self.watchdog = wdt
        return self

    def make_watchdog(self):
        """The watchdog with_watchdog() asked for, started now (None when not configured)."""
        if not self.watchdog_ms:
            return None
        if self.watchdog is None:
            import machine

            self.watchdog = machine.WDT(timeout=self.watchdog_ms)  # pyright: ignore[reportAttributeAccessIssue]
        return self.watchdog

    def with_supervised_failure_telemetry(self, enabled=True):
        """Also send every failure a supervisor decides (restarted / resumed / stopped)
        to the telemetry back-end: its on_supervised(info), a supervision frame on
        the UART (wire type 0, kind 2). Off by default: telemetry then sees root
        failures only. Counted like root failures (counters.telemetry_calls,
        telemetry_errors); allocates nothing per failure."""
        self.supervised_telemetry = bool(enabled)
        return self

    def with_reset_record(self, record):
        """Keep every root failure in `record` (cellex.reset_record.ResetRecord), before
        a ROOT_RESET resets the board, so the next boot can report it."""
        self.reset_record = record
        return self

    def with_guardian_strategy(self, strategy):
        """Supervise top-level actors with `strategy` (a SupervisorStrategy)."""
        if not isinstance(strategy, SupervisorStrategy):
            raise ValueError("guardian strategy must be a SupervisorStrategy, got %r" % (strategy,))
        self.guardian_strategy = strategy
        return self

    def with_failure_telemetry(self, telemetry):
        """Use this back-end (an object with on_failure(snapshot))."""
        if not callable(getattr(telemetry, "on_failure", None)):
            raise ValueError("failure telemetry needs an on_failure(snapshot) method: %r" % (telemetry,))
        self.telemetry = telemetry
        return self

    def with_failure_telemetry_builder(self, builder):
        """Build the back-end at start: builder(TelemetryContext) -> back-end (called once)."""
        if not callable(builder):
            raise ValueError("telemetry builder must be callable: %r" % (builder,))
        self.telemetry_builder = builder
        return self

    def with_failure_observation_config(self, observation):
        """Observe telemetry calls (FailureTelemetryObservationConfig)."""
        self.observation = observation
        return self

    def with_event_handler(self, handler):
        """handler(FailureInfo): generic notification of each failure at the root."""
        self.event_handler = handler
        return self

    def with_event_listener(self, listener):
        """listener(FailureInfo): every supervised failure and every failure at the root.

        info.decision says what was done: RESTART / RESUME / STOP by a
        supervisor, ESCALATE for a failure that reached the root.
        """
        self.event_listener = listener
        return self

    def with_escalation_handler(self, handler):
        """handler(actor_ref, error, stage) -> bool, between the guardian and the root.

        Returning True absorbs the failure (the root does not see it).
        """
        self.escalation_handler = handler
        return self

    def with_extension(self, name, obj):
        """Register an object the telemetry builder can find in ctx.extensions[name]."""
        self.extensions[name] = obj
        return self

    def with_clock(self, ticks_ms):
        """Use this ticks_ms() function as the runtime's clock (tests, simulations)."""
        self.ticks_ms = ticks_ms
        return self

    def with_irq(self, disable_irq, enable_irq):
        """Guard the post ring with these (tests: fakes that simulate an interrupt).

        disable_irq() -> state, enable_irq(state): machine's on a board.
        """
        self.disable_irq = disable_irq
        self.enable_irq = enable_irq
        return self

    def with_root_policy(self, policy, reset=None):
        """After telemetry, ROOT_STOP the failing subtree (default) or ROOT_RESET.

        ROOT_RESET flushes telemetry, then calls reset(): machine.reset on a
        board when `reset` is None.
        """
        if policy not in (ROOT_STOP, ROOT_RESET):
            raise ValueError("bad root policy %r: use ROOT_STOP or ROOT_RESET" % (policy,))
        if policy == ROOT_RESET and reset is None:
            try:
                import machine

                reset = machine.reset  # pyright: ignore[reportAttributeAccessIssue] (unix stubs lack it)
            except (ImportError, AttributeError):
                raise ValueError("ROOT_RESET needs a reset function here (no machine.reset)") from None
        self.root_policy = policy
        self.reset = reset
        return self
