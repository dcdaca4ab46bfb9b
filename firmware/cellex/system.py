# cellex.system: ActorSystem, which spawns actors, runs the scheduler and applies supervision.
# MIT licence.
#
# Set-up (spawn, start) allocates; after start(), sending, dispatching,
# restarting, stopping and escalating to the root do not.
import gc

from cellex.actor_path import ActorPath
from cellex.actor_ref import PAUSED, RUNNING, STOPPED, ActorRef
from cellex.compat import clear_traceback, micropython, ticks_add
from cellex.config import ActorSystemConfig
from cellex.counters import SystemCounters
from cellex.deadlines import Deadlines
from cellex.escalation import CompositeEscalationSink
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

_USER = ("user",)
# The strategy of actors spawned without one. Strategies are never changed
# after they are made, so every such actor shares this one (an own copy per
# actor would cost ~200 heap bytes each).
_DEFAULT_STRATEGY = SupervisorStrategy()


class ActorSystem:
    """A tree of actors under /user, one scheduler, one root escalation sink.

    Typical use: spawn every actor, start(), then call run_until_idle() (or
    run(budget)) from the main loop. Counters: `counters` (SystemCounters).
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
        # Restart backoff: one deadline slot per actor (slot = id - 1).
        self.deadlines = Deadlines(cfg.max_actors)
        self.scheduler = ReadyQueueScheduler(
            cfg.max_actors, self.counters, handle, self._wake, self.deadlines, cfg.ticks_ms
        )
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
        # order: parents before children) first. Called by the scheduler only
        # once the earliest deadline has passed.
        deadlines = self.deadlines
        refs = self._refs
        while True:
            slot = deadlines.pop_due(now)
            if slot < 0:
                return
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
            ref.state = STOPPED
            ref._drain()
            try:
                ref.actor.on_stop()
            except Exception:  # noqa: BLE001 - stopping goes on
                self.counters.failures += 1
