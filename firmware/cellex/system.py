# cellex.system: ActorSystem, which spawns actors, runs the scheduler and applies supervision.
# MIT licence.
#
# Set-up (spawn, topic, start) allocates; after start(), sending,
# dispatching, restarting, stopping, escalating to the root, arming /
# cancelling / firing timers, asking / replying / timing out, publishing,
# dead letters, posting from an interrupt and the run_forever() loop do not.
import gc

from cellex.actor_path import ActorPath
from cellex.actor_ref import PAUSED, RUNNING, STOPPED, ActorRef
from cellex.ask import Asks
from cellex.compat import clear_traceback, micropython, ticks_add, ticks_diff
from cellex.config import ActorSystemConfig
from cellex.counters import SystemCounters
from cellex.dead_letters import DeadLetters
from cellex.deadlines import Deadlines
from cellex.escalation import CompositeEscalationSink
from cellex.post import PostRing
from cellex.root_escalation_sink import RootEscalationSink
from cellex.scheduler import ReadyQueueScheduler
from cellex.supervision import (
    NORMAL,
    ONE_FOR_ALL,
    ONE_FOR_ONE,
    PER_CHILD,
    PERMANENT,
    SHUTDOWN,
    STOP,
    TEMPORARY,
    RestartHistory,
    SupervisorStrategy,
    check_directive,
    check_restart_type,
)
from cellex.telemetry import TelemetryContext
from cellex.timers import Timers
from cellex.watch import Watches

_USER = ("user",)
_MAX_DELAY_MS = 1 << 28  # a quarter of the ticks period: deadlines compare safely
# The strategy of actors spawned without one. Strategies are never changed
# after they are made, so every such actor shares this one (an own copy per
# actor would cost ~200 heap bytes each).
_DEFAULT_STRATEGY = SupervisorStrategy()


class _Guardian:
    """The parent node of the top-level actors (their ref.parent stays None)."""

    def __init__(self, strategy):
        self.strategy = strategy
        self._child_history = RestartHistory(strategy.max_restarts)
        self._first = None  # type: ActorRef | None
        self._last = None  # type: ActorRef | None


class ActorSystem:
    """A tree of actors under /user, one scheduler, one root escalation sink.

    Typical use: spawn every actor, arm timers (send_every), start(), then
    run_forever() (or run_until_idle() / run(budget) from your own main
    loop, or `await run_async()` beside asyncio). Counters: `counters`
    (SystemCounters); every dead letter: `dead_letters` (DeadLetters).

    Between actors, beside tell(): ask(target, call, body, timeout_ms)
    and reply(token, value) (cellex.ask), topic(name, max_subscribers)
    (cellex.pubsub), and an actor's own cellex.stash.Stash.
    """

    def __init__(self, config=None):
        cfg = ActorSystemConfig() if config is None else config
        self.config = cfg
        self.counters = SystemCounters()
        self._ticks_ms = cfg.ticks_ms
        self.dead_letters = DeadLetters(self.counters, cfg.ticks_ms)
        self.root = RootEscalationSink(self, cfg)
        self._escalation = CompositeEscalationSink(
            self, self.root, cfg.guardian_strategy, cfg.escalation_handler, cfg.ticks_ms
        )
        # A failure in receive() goes straight to the escalation chain.
        handle = self._escalation.handle
        # One set of deadlines: restart backoff takes one slot per actor
        # (its slot), timers the slots after those, ask timeouts the last one.
        self.deadlines = Deadlines(cfg.max_actors + cfg.timer_slots + 1)
        self._timer_base = cfg.max_actors
        self.timers = Timers(cfg.timer_slots, self.deadlines, cfg.max_actors, self.counters)
        self._ask_slot = cfg.max_actors + cfg.timer_slots
        self.asks = Asks(
            cfg.ask_slots, self.deadlines, self._ask_slot, self.counters, self.dead_letters, cfg.ticks_ms
        )
        # Bound once (binding allocates). ask(target, call, body, timeout_ms)
        # -> token and reply(token, value) -> bool: see cellex.ask. (Four
        # arguments at most: a native method called with five takes a heap block.)
        self.ask = self.asks.ask
        self.reply = self.asks.reply
        self.posts = PostRing(cfg.post_slots, self.counters, cfg.disable_irq, cfg.enable_irq)
        self.post = self.posts.post  # bound once: an interrupt handler may call system.post
        self.scheduler = ReadyQueueScheduler(
            cfg.max_actors, self.counters, handle, self._wake, self.deadlines, cfg.ticks_ms, self.posts
        )
        self._running = False
        # Actors by slot (None: free); a dynamic actor's slot is freed when it stops.
        self._slots = [None] * cfg.max_actors  # type: list
        self._next_id = 1
        self._guardian = _Guardian(cfg.guardian_strategy)
        self.watches = Watches(cfg.watch_slots)
        # Failures of on_restart() met while a restart is being applied: decided
        # after it (a group restart is not re-entered half-way).
        self._failed_ref = [None] * cfg.max_actors  # type: list
        self._failed_err = [None] * cfg.max_actors  # type: list
        self._failed_n = 0
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
        restart=PERMANENT,
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
        dynamic           True for an actor whose name and slot are freed when
                          it stops (spawn/stop can cycle forever); required to
                          spawn after start(), which allocates its mailbox
                          while the system runs (stopping allocates nothing)
        restart           PERMANENT (default) / TRANSIENT / TEMPORARY (OTP)
        """
        cfg = self.config
        if self.started and not dynamic:
            raise RuntimeError("spawn after start() allocates; pass dynamic=True to do it anyway")
        slots = self._slots
        slot = 0
        while slot < cfg.max_actors and slots[slot] is not None:
            slot += 1
        if slot == cfg.max_actors:
            raise ValueError("cannot spawn %r: max_actors=%d reached" % (name, cfg.max_actors))
        if not name or "/" in name:
            raise ValueError("bad actor name %r: non-empty, no '/'" % (name,))
        if parent is not None and (not isinstance(parent, ActorRef) or parent.state == STOPPED):
            raise ValueError("parent must be a live ActorRef, got %r" % (parent,))
        node = self._guardian if parent is None else parent
        sib = node._first
        while sib is not None:
            if sib.name == name:
                raise ValueError("duplicate actor name %r under %s" % (name, self._parent_path(parent)))
            sib = sib._next
        if supervisor is not None and not isinstance(supervisor, SupervisorStrategy):
            raise ValueError("supervisor must be a SupervisorStrategy, got %r" % (supervisor,))
        if directive is not None:
            check_directive(directive)
        check_restart_type(restart)
        capacity = mailbox_capacity or cfg.mailbox_capacity
        if capacity < 1:
            raise ValueError("mailbox_capacity must be >= 1, got %d" % capacity)
        tags = tuple((str(k), str(v)) for k, v in tags)
        path = ActorPath((parent.path.segments if parent is not None else _USER) + (name,))
        guardian = node.strategy
        strategy = _DEFAULT_STRATEGY if supervisor is None else supervisor
        history = RestartHistory(guardian.max_restarts if guardian.intensity == PER_CHILD else 0)
        ref = ActorRef(
            self, actor, self._next_id, path, parent, capacity,
            (component, endpoint, transport), tags, history, directive, strategy,
            slot, restart, dynamic, RestartHistory(strategy.max_restarts),
        )  # fmt: skip
        self._next_id += 1
        actor.ref = ref
        actor.system = self
        slots[slot] = ref
        # Last child of its parent: children stay in spawn order.
        last = node._last
        ref._prev = last
        if last is None:
            node._first = ref
        else:
            last._next = ref
        node._last = ref
        return ref

    def topic(self, name, max_subscribers):
        """Declare a publish/subscribe topic (cellex.pubsub.Topic) with a fixed subscriber table.

        Allocates: call before start(). Subscribing and publishing later do not.
        """
        if self.started:
            raise RuntimeError("declare topics before start(): a topic allocates its table")
        from cellex.pubsub import Topic

        return Topic(name, max_subscribers)

    def start(self):
        """Finish set-up: snapshot pool, watchdog, telemetry builder; then collect garbage once."""
        if self.started:
            return
        cfg = self.config
        self.root.start(cfg.snapshot_slots)
        scheduler = self.scheduler
        wdt = cfg.make_watchdog()
        if wdt is not None:
            # The scheduler feeds it and keeps the running actor in the reset
            # record; its run() becomes the watched one (an unwatched run() pays nothing).
            record = cfg.reset_record
            slot, key = (None, 0) if record is None else record.running_slot()
            scheduler.watch(wdt.feed, slot, key)
        # Bound again: a watched scheduler has another run().
        self.run = scheduler.run
        self.run_until_idle = scheduler.run_until_idle
        if cfg.telemetry_builder is not None:
            metrics = cfg.observation.metrics if cfg.observation is not None else None
            self.root.apply_builder(TelemetryContext(metrics, cfg.extensions), cfg.telemetry_builder)
        self.started = True
        gc.collect()

    # -- queries (allocate; not for hot paths) -----------------------------

    def actors(self):
        """Every ActorRef the system holds (freed dynamic actors are gone), in spawn order."""
        return sorted([r for r in self._slots if r is not None], key=lambda r: r.id)

    def lookup(self, path):
        """The ActorRef at `path` ("/user/a/b"), or None."""
        for ref in self._slots:
            if ref is not None and str(ref.path) == path:
                return ref
        return None

    def children(self, parent):
        """The direct children of `parent` (None: the top-level actors), in spawn order."""
        out = []
        ref = (self._guardian if parent is None else parent)._first
        while ref is not None:
            out.append(ref)
            ref = ref._next
        return out

    # -- stop and watch -----------------------------------------------------

    def stop_actor(self, ref):
        """Stop `ref` and its descendants for good (same as ref.stop()). Allocates nothing."""
        self._stop(ref, NORMAL)

    def watch(self, watcher, target):
        """`watcher` gets a Terminated (cellex.watch) with the reason when `target` stops.

        Returns that Terminated message. Makes it now (allocates one small
        object); delivering it allocates nothing. Raises RuntimeError when
        every watch slot is in use. Already stopped: delivered at once.
        """
        msg = self.watches.watch(watcher, target)
        if target.state == STOPPED:
            self.watches.stopped(target, NORMAL)
        return msg

    def unwatch(self, watcher, target):
        """Stop watching `target`; True if `watcher` was watching it."""
        return self.watches.unwatch(watcher, target)

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
    #
    # The tree is linked (first / last child, previous / next sibling), so a
    # subtree is walked without a list, and a dynamic actor is unlinked and
    # its slot freed without allocating.

    @micropython.native
    def _restart_scope(self, subject, strategy, now, cause):
        # RESTART: the scope picks the siblings, each restarts with its subtree.
        scope = strategy.scope
        if scope == ONE_FOR_ONE:
            self._restart(subject, strategy, now)
            return
        node = self._guardian if subject.parent is None else subject.parent
        # First tell every sibling the group restart is about to take down.
        after = False
        ref = node._first
        while ref is not None:
            if ref is subject:
                after = True
            elif ref.state != STOPPED and (after or scope == ONE_FOR_ALL):
                try:
                    ref.actor.on_group_restart(cause)
                except Exception as e:  # noqa: BLE001 - the hook must not break supervision
                    clear_traceback(e)
                    self.counters.hook_errors += 1
            ref = ref._next
        after = False
        ref = node._first
        while ref is not None:
            nxt = ref._next  # before a dynamic sibling is unlinked
            if ref is subject:
                after = True
                self._restart(ref, strategy, now)
            elif ref.state != STOPPED and (after or scope == ONE_FOR_ALL):
                if ref.restart_type == TEMPORARY or ref.directive == STOP:
                    self._stop(ref, SHUTDOWN)  # never restarted: OTP takes it down for good
                else:
                    self._restart(ref, strategy, now)
            ref = nxt

    @micropython.native
    def _restart(self, target, strategy, now):
        # Timers survive a restart (see the timers section). The target and its
        # subtree restart in place, parents first; a restarted supervisor starts
        # with a fresh restart count; TEMPORARY descendants are stopped.
        delay = strategy.backoff_ms(target._history.shift) if strategy.backoff_min_ms else 0
        counters = self.counters
        ref = target
        while ref is not None:
            # the next actor in preorder, and the next after ref's subtree, found
            # before `ref` may be unlinked
            skip = ref
            while skip is not target and skip._next is None:
                skip = skip.parent
            skip = None if skip is target else skip._next
            if ref.state == STOPPED:
                ref = skip
                continue
            if ref is not target and ref.restart_type == TEMPORARY:
                self._stop(ref, SHUTDOWN)
                ref = skip
                continue
            nxt = skip if ref._first is None else ref._first
            h = ref._child_history
            if h._n:
                h.clear()  # a restarted supervisor starts with a fresh count
            if ref is not target:
                h = ref._history
                if h._n or h._restarted:
                    h.clear()
            ref.restarts += 1
            counters.restarts += 1
            if delay:
                ref.state = PAUSED
                self.deadlines.arm(ref.slot, ticks_add(now, delay))
            else:
                self._call_on_restart(ref)
            ref = nxt

    @micropython.native
    def _call_on_restart(self, ref):
        try:
            ref.actor.on_restart()
        except Exception as e:  # noqa: BLE001 - a failed restart is a failure of that actor
            self._restart_failed(ref, e)

    @micropython.native
    def _restart_failed(self, ref, e):
        clear_traceback(e)
        n = self._failed_n
        if n == len(self._failed_ref):
            self.counters.failures += 1
            ref.failures += 1
            self._stop(ref, e)
        else:
            # Decided once the restart in progress is done (CompositeEscalationSink).
            self._failed_ref[n] = ref
            self._failed_err[n] = e
            self._failed_n = n + 1

    @micropython.native
    def _wake(self, now):
        # Resume paused actors whose backoff has passed, lowest slot first,
        # then fire due timers, then time out asks. Called by the scheduler
        # only once the earliest deadline has passed.
        deadlines = self.deadlines
        slots = self._slots
        base = self._timer_base
        ask_slot = self._ask_slot
        while True:
            slot = deadlines.pop_due(now)
            if slot < 0:
                return
            if slot == ask_slot:
                self.asks.wake(now)
                continue
            if slot >= base:
                self.timers.fire(slot - base, now)
                continue
            ref = slots[slot]
            if ref is None:
                continue
            ref.state = RUNNING
            self._call_on_restart(ref)
            if self._failed_n:
                self._escalation.drain()
            if ref.state == RUNNING and ref.pending and not ref._queued:
                ref._queued = True
                self.scheduler.enqueue(ref)

    @micropython.native
    def _stop(self, target, reason=None):
        # Stop `target` and its subtree, children first (reverse spawn order):
        # `target` ends with `reason` (None: NORMAL), its descendants with SHUTDOWN.
        if reason is None:
            reason = NORMAL
        ref = target
        while ref._last is not None:
            ref = ref._last
        while True:
            # the next actor in reverse preorder, found before `ref` is unlinked
            if ref is target:
                nxt = None
            elif ref._prev is not None:
                nxt = ref._prev
                while nxt._last is not None:
                    nxt = nxt._last
            else:
                nxt = ref.parent
            self._stop_one(ref, reason if ref is target else SHUTDOWN)
            if nxt is None:
                return
            ref = nxt

    @micropython.native
    def _stop_one(self, ref, reason):
        if ref.state == STOPPED:
            return
        if ref.state == PAUSED:
            self.deadlines.cancel(ref.slot)
        if self.timers.armed:
            self.timers.cancel_for(ref)  # timers die with their actor
        ref.state = STOPPED
        ref._drain()
        try:
            ref.actor.on_stop()
        except Exception as e:  # noqa: BLE001 - stopping goes on
            clear_traceback(e)
            self.counters.failures += 1
        if self.watches.active:
            self.watches.stopped(ref, reason)
        if ref.dynamic:
            self._free(ref)

    @micropython.native
    def _free(self, ref):
        # A stopped dynamic actor leaves the tree: its name and slot can be reused.
        node = self._guardian if ref.parent is None else ref.parent
        prev = ref._prev
        nxt = ref._next
        if prev is None:
            node._first = nxt
        else:
            prev._next = nxt
        if nxt is None:
            node._last = prev
        else:
            nxt._prev = prev
        ref._prev = None
        ref._next = None
        self._slots[ref.slot] = None
        self.counters.freed += 1
