# cellex.system: ActorSystem, which spawns actors, runs the scheduler and applies supervision.
# MIT licence.
#
# Set-up (spawn, start) allocates; after start(), sending, dispatching,
# restarting, stopping, escalating to the root, arming / cancelling / firing
# timers, posting from an interrupt and the run_forever() loop do not.
import gc

from cellex.actor_path import ActorPath
from cellex.actor_ref import PAUSED, RUNNING, STOPPED, ActorRef
from cellex.compat import clear_traceback, micropython, ticks_add, ticks_diff
from cellex.config import ActorSystemConfig
from cellex.counters import SystemCounters
from cellex.deadlines import Deadlines
from cellex.escalation import CompositeEscalationSink
from cellex.post import PostRing
from cellex.root_escalation_sink import RootEscalationSink
from cellex.scheduler import ReadyQueueScheduler
from cellex.supervision import (
    ONE_FOR_ALL,
    ONE_FOR_ONE,
    RestartHistory,
    SupervisorStrategy,
    check_directive,
)
from cellex.telemetry import TelemetryContext
from cellex.timers import Timers

_USER = ("user",)
_MAX_DELAY_MS = 1 << 28  # a quarter of the ticks period: deadlines compare safely
# The strategy of actors spawned without one. Strategies are never changed
# after they are made, so every such actor shares this one (an own copy per
# actor would cost ~200 heap bytes each).
_DEFAULT_STRATEGY = SupervisorStrategy()


class ActorSystem:
    """A tree of actors under /user, one scheduler, one root escalation sink.

    Typical use: spawn every actor, arm timers (send_every), start(), then
    run_forever() (or run_until_idle() / run(budget) from your own main
    loop, or `await run_async()` beside asyncio). Counters: `counters`
    (SystemCounters).
    """

    def __init__(self, config=None):
        cfg = ActorSystemConfig() if config is None else config
        self.config = cfg
        self.counters = SystemCounters()
        self._ticks_ms = cfg.ticks_ms
        self.root = RootEscalationSink(self, cfg)
        self._escalation = CompositeEscalationSink(
            self, self.root, cfg.guardian_strategy, cfg.escalation_handler, cfg.ticks_ms
        )
        # A failure in receive() goes straight to the escalation chain.
        handle = self._escalation.handle
        # One set of deadlines: restart backoff takes one slot per actor
        # (slot = id - 1), timers the slots after those.
        self.deadlines = Deadlines(cfg.max_actors + cfg.timer_slots)
        self._timer_base = cfg.max_actors
        self.timers = Timers(cfg.timer_slots, self.deadlines, cfg.max_actors, self.counters)
        self.posts = PostRing(cfg.post_slots, self.counters, cfg.disable_irq, cfg.enable_irq)
        self.post = self.posts.post  # bound once: an interrupt handler may call system.post
        self.scheduler = ReadyQueueScheduler(
            cfg.max_actors, self.counters, handle, self._wake, self.deadlines, cfg.ticks_ms, self.posts
        )
        self._running = False
        self._refs = []
        self.started = False
        self.run = self.scheduler.run
        self.run_once = self.scheduler.run_once
        self.run_until_idle = self.scheduler.run_until_idle

    # -- set-up -------------------------------------------------------------

    def spawn(
        self,
        actor,
        name,
        parent=None,
        mailbox_capacity=0,
        supervisor=None,
        directive=None,
        component="",
        endpoint="",
        transport="",
        tags=(),
        dynamic=False,
    ):
        """Create an actor and return its ActorRef. Allocates: call before start().

        parent            the supervising ActorRef, or None for a top-level
                          actor (/user/<name>, supervised by the guardian strategy)
        mailbox_capacity  slots in its mailbox (default: config.mailbox_capacity)
        supervisor        SupervisorStrategy for this actor's own children
        directive         per-child override of the parent's decision
                          (RESUME / RESTART / STOP / ESCALATE), or None
        component, endpoint, transport, tags
                          telemetry metadata, held by reference; tags is a
                          sequence of (key, value) str pairs
        dynamic           True to spawn after start(): this allocates the
                          actor's mailbox while the system runs, so it is opt-in
        """
        cfg = self.config
        if self.started and not dynamic:
            raise RuntimeError("spawn after start() allocates; pass dynamic=True to do it anyway")
        if len(self._refs) >= cfg.max_actors:
            raise ValueError("cannot spawn %r: max_actors=%d reached" % (name, cfg.max_actors))
        if not name or "/" in name:
            raise ValueError("bad actor name %r: non-empty, no '/'" % (name,))
        if parent is not None and (not isinstance(parent, ActorRef) or parent.state == STOPPED):
            raise ValueError("parent must be a live ActorRef, got %r" % (parent,))
        for ref in self._refs:
            if ref.parent is parent and ref.name == name:
                raise ValueError("duplicate actor name %r under %s" % (name, self._parent_path(parent)))
        if supervisor is not None and not isinstance(supervisor, SupervisorStrategy):
            raise ValueError("supervisor must be a SupervisorStrategy, got %r" % (supervisor,))
        if directive is not None:
            check_directive(directive)
        capacity = mailbox_capacity or cfg.mailbox_capacity
        if capacity < 1:
            raise ValueError("mailbox_capacity must be >= 1, got %d" % capacity)
        tags = tuple((str(k), str(v)) for k, v in tags)
        path = ActorPath((parent.path.segments if parent is not None else _USER) + (name,))
        guardian = cfg.guardian_strategy if parent is None else parent.strategy
        history = RestartHistory(guardian.max_restarts)
        ref = ActorRef(
            self, actor, len(self._refs) + 1, path, parent, capacity,
            (component, endpoint, transport), tags, history, directive,
            _DEFAULT_STRATEGY if supervisor is None else supervisor,
        )  # fmt: skip
        actor.ref = ref
        actor.system = self
        self._refs.append(ref)
        # Each ancestor's subtree (itself, then descendants in spawn order) gains
        # the new actor: restarting and stopping walk these, not every actor.
        a = parent
        while a is not None:
            a._subtree += (ref,)
            a = a.parent
        return ref

    def start(self):
        """Finish set-up: snapshot pool, telemetry builder; then collect garbage once."""
        if self.started:
            return
        cfg = self.config
        self.root.start(cfg.snapshot_slots)
        if cfg.telemetry_builder is not None:
            metrics = cfg.observation.metrics if cfg.observation is not None else None
            self.root.apply_builder(TelemetryContext(metrics, cfg.extensions), cfg.telemetry_builder)
        self.started = True
        gc.collect()

    # -- queries (allocate; not for hot paths) -----------------------------

    def actors(self):
        """Every ActorRef, in spawn order."""
        return list(self._refs)

    def lookup(self, path):
        """The ActorRef at `path` ("/user/a/b"), or None."""
        for ref in self._refs:
            if str(ref.path) == path:
                return ref
        return None

    def children(self, parent):
        """The direct children of `parent` (None: the top-level actors), in spawn order."""
        return [r for r in self._refs if r.parent is parent]

    def _parent_path(self, parent):
        return "/user" if parent is None else str(parent.path)

    # -- timers (no allocation: slots made above) ----------------------------
    #
    # A timer delivers to its actor with tell(): a full mailbox makes it a
    # dead letter (counted), a periodic timer keeps its period. Timers live
    # as long as their actor: a restart keeps them (the restart is in place:
    # same ActorRef, same mailbox, so its timers too; on_restart() may call
    # cancel_timers(self.ref) to start afresh), a stop cancels them. While an
    # actor waits out a restart backoff its timer messages wait in its
    # mailbox.

    @micropython.native
    def send_after(self, ref, msg, ms):
        """Tell `msg` to `ref` once, `ms` milliseconds from now; returns a handle for cancel().

        Raises RuntimeError (cellex.timers.TIMERS_FULL) when every timer slot
        is in use, ValueError for a stopped actor or a delay outside 0..2**28 ms.
        """
        if ms < 0 or ms > _MAX_DELAY_MS or ref.state == STOPPED:
            self._bad_timer(ref, ms)
        return self.timers.arm(ref, msg, ticks_add(self._ticks_ms(), ms), 0)

    @micropython.native
    def send_every(self, ref, msg, period_ms, first_ms=-1):
        """Tell `msg` to `ref` every `period_ms` (first after `first_ms`, default one period).

        Does not drift: each deadline is the previous one plus the period.
        Returns a handle for cancel(); errors as send_after().
        """
        if first_ms < 0:
            first_ms = period_ms
        if period_ms < 1 or period_ms > _MAX_DELAY_MS or first_ms > _MAX_DELAY_MS or ref.state == STOPPED:
            self._bad_timer(ref, period_ms)
        return self.timers.arm(ref, msg, ticks_add(self._ticks_ms(), first_ms), period_ms)

    def _bad_timer(self, ref, ms):
        if ref.state == STOPPED:
            raise ValueError("cannot arm a timer for stopped actor %s" % ref.path)
        raise ValueError("timer delay/period out of range: %d ms (period >= 1, both <= 2**28)" % ms)

    def cancel(self, handle):
        """Cancel a timer; True if it was armed, False if it already fired, was cancelled, or is stale."""
        return self.timers.cancel(handle)

    def cancel_timers(self, ref):
        """Cancel every timer that delivers to `ref`; returns how many."""
        return self.timers.cancel_for(ref) if self.timers.armed else 0

    # -- the main loop -----------------------------------------------------

    def run_forever(self, idle=None):
        """Dispatch until stop(): run until idle, then idle(ms) until the next deadline.

        idle(ms) is called when no actor is ready and no post waits; ms is
        the time to the earliest deadline (a timer, a restart backoff) or -1
        when none is armed. Default: cellex.idle.default_idle (machine.idle()
        on a board, which returns on any interrupt; a short time.sleep_ms()
        on a host). counters.idle_ms / counters.loop_ms give the CPU load.
        Allocates nothing per turn. Returns after stop() (from an actor, an
        interrupt handler or the idle hook).
        """
        if idle is None:
            from cellex.idle import default_idle

            idle = default_idle
        self._running = True
        self._loop(idle)

    def stop(self):
        """Make run_forever() / run_async() return after the current message. Safe from an interrupt."""
        self._running = False
        self.posts.waker.set()

    def sleep_ms(self):
        """Ms until the earliest deadline (0: one has passed), or -1 when none is armed."""
        deadlines = self.deadlines
        if not deadlines.armed:
            return -1
        ms = ticks_diff(deadlines.next, self._ticks_ms())
        return ms if ms > 0 else 0

    @micropython.native
    def _loop(self, idle):
        clock = self._ticks_ms
        scheduler = self.scheduler
        deadlines = self.deadlines
        posts = self.posts
        counters = self.counters
        last = clock()
        while self._running:
            scheduler.run(-1)
            if posts.count or not self._running:
                continue
            ms = -1
            if deadlines.armed:
                ms = ticks_diff(deadlines.next, clock())
                if ms <= 0:
                    continue
            t0 = clock()
            counters.loop_ms += ticks_diff(t0, last)
            idle(ms)
            last = clock()
            counters.idle_ms += ticks_diff(last, t0)
            counters.loop_ms += ticks_diff(last, t0)
        counters.loop_ms += ticks_diff(clock(), last)

    def run_async(self):
        """A coroutine: `await system.run_async()` runs the system as an asyncio task until stop().

        It sleeps on an asyncio.ThreadSafeFlag until the next deadline or a
        post() (from an interrupt or from a coroutine: the way an asyncio
        task hands a result back to an actor). See cellex.aio.
        """
        from cellex.aio import run_async

        return run_async(self)

    # -- supervision (no allocation below) ----------------------------------

    @micropython.native
    def _restart_scope(self, subject, strategy, now):
        # RESTART: the scope picks the siblings, each restarts with its subtree.
        scope = strategy.scope
        if scope == ONE_FOR_ONE:
            self._restart(subject, strategy, now)
            return
        parent = subject.parent
        after = False
        for ref in self._refs:
            if ref is subject:
                after = True
            if ref.parent is parent and ref.state != STOPPED and (after or scope == ONE_FOR_ALL):
                self._restart(ref, strategy, now)

    @micropython.native
    def _restart(self, target, strategy, now):
        # Timers survive a restart (see the timers section).
        delay = strategy.backoff_ms(target._history.shift) if strategy.backoff_min_ms else 0
        counters = self.counters
        for ref in target._subtree:  # parents before children
            if ref.state != STOPPED:
                ref.restarts += 1
                counters.restarts += 1
                if delay:
                    ref.state = PAUSED
                    self.deadlines.arm(ref.id - 1, ticks_add(now, delay))
                else:
                    self._call_on_restart(ref)

    @micropython.native
    def _call_on_restart(self, ref):
        try:
            ref.actor.on_restart()
        except Exception as e:  # noqa: BLE001 - an actor that cannot restart is stopped
            clear_traceback(e)
            self.counters.failures += 1
            ref.failures += 1
            self._stop(ref)

    @micropython.native
    def _wake(self, now):
        # Resume paused actors whose backoff has passed, lowest slot (spawn
        # order: parents before children) first, then fire due timers.
        # Called by the scheduler only once the earliest deadline has passed.
        deadlines = self.deadlines
        refs = self._refs
        base = self._timer_base
        while True:
            slot = deadlines.pop_due(now)
            if slot < 0:
                return
            if slot >= base:
                self.timers.fire(slot - base, now)
                continue
            ref = refs[slot]
            ref.state = RUNNING
            self._call_on_restart(ref)
            if ref.state == RUNNING and ref.pending and not ref._queued:
                ref._queued = True
                self.scheduler.enqueue(ref)

    @micropython.native
    def _stop(self, target):
        # Stop `target` and its subtree, children first.
        subtree = target._subtree
        i = len(subtree) - 1
        while i >= 0:
            ref = subtree[i]
            i -= 1
            if ref.state == STOPPED:
                continue
            if ref.state == PAUSED:
                self.deadlines.cancel(ref.id - 1)
            if self.timers.armed:
                self.timers.cancel_for(ref)  # timers die with their actor
            ref.state = STOPPED
            ref._drain()
            try:
                ref.actor.on_stop()
            except Exception:  # noqa: BLE001 - stopping goes on
                self.counters.failures += 1
