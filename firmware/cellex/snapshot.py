# cellex.snapshot: FailureSnapshot, TelemetryTag and the preallocated pool of snapshot slots.
# MIT licence.
#
# A failure that reaches the root is copied into a free slot of the pool, the
# slot is handed to the telemetry back-end, then returned. Nothing here
# allocates after the pool is built: strings are held by reference, the
# description is copied into the slot's own bytearray. The methods on the
# failure path are @micropython.native: their frames stay off the heap.
from cellex.compat import clear_traceback, const, copy_bytes, copy_str, micropython

MAX_FAILURE_SNAPSHOT_TAGS = const(4)
DESCRIPTION_CAPACITY = const(48)

# Types as module globals: a builtin's name is found by a linear search of the
# builtins table after missing the module's own dict.
_str = str
_tuple = tuple
_list = list
_SEQUENCES = (tuple, list)


class TelemetryTag:
    """A key/value pair held by reference (no copies of the strings)."""

    __slots__ = ("key", "value")

    def __init__(self, key="", value=""):
        self.key = key
        self.value = value


class TaggedError(Exception):
    """Base class for exceptions that carry telemetry tags of their own.

    Set `telemetry_tags` (a tuple of (key, value) str pairs) on the class or on
    an instance; the root adds them to the snapshot after the actor's spawn
    tags. Anything else there (a pair that is not a 2-tuple, a dict, a
    property that raises) is counted in the snapshot's tags_dropped and never
    reaches supervision. A base class rather than a duck-typed attribute: MicroPython's
    built-in exceptions take no attributes, and looking up a missing attribute
    with getattr(e, name, None) can allocate while the heap is locked.
    """

    telemetry_tags = ()  # type: tuple


class FailureSnapshot:
    """A read-only record of one failure, as the root hands it to telemetry.

    Fields, in the order the wire format carries them:
      sequence      per-system failure number (counts every failure at the root,
                    so a gap means snapshots were dropped)
      timestamp_ms  time.ticks_ms() when the failure was captured
      actor_id      the failing actor's id (int)
      path          the failing actor's path segments from the root, a tuple of str
      error_type    the exception's class name
      reason        the exception's message (first argument when it is a str, else "")
      description   eager copy of `reason` in the slot's own buffer, at most
                    DESCRIPTION_CAPACITY UTF-8 bytes; `description_truncated` tells
                    when bytes were cut; read it with description_bytes()
      component, endpoint, transport
                    the actor's metadata ("" when unset), then
      tags          up to MAX_FAILURE_SNAPSHOT_TAGS free tags: the actor's spawn tags
                    first, then the failure's own (`telemetry_tags` of a TaggedError);
                    `tag_count` of them are valid, `tags_dropped` counts those that
                    did not fit
      stage         escalation stage: the number of supervisor hops the failure
                    climbed before reaching the root
    Back-ends must not keep a snapshot past on_failure(): its slot is reused.
    """

    def __init__(self):
        self._description = bytearray(DESCRIPTION_CAPACITY)
        self._tags = [TelemetryTag() for _ in range(MAX_FAILURE_SNAPSHOT_TAGS)]
        self._slot = 0  # index in its SnapshotPool
        self.sequence = 0
        self.timestamp_ms = 0
        self.actor_id = 0
        self.clear()

    def description_bytes(self):
        """The description's bytes: a memoryview slice (allocates; not for hot paths)."""
        return memoryview(self._description)[: self.description_len]

    # `snapshot.description`, the description as a str (allocates; for hosts
    # and tests). Served by __getattr__ rather than a property on purpose: on
    # MicroPython one property on a class makes every attribute store on its
    # instances look the name up in the class first (≈ 3x slower), and
    # capturing a failure stores about 30 fields. __getattr__ only runs for
    # names an instance does not have, so it costs nothing elsewhere.
    def __getattr__(self, name):
        if name == "description":
            return str(bytes(self.description_bytes()), "utf-8")
        raise AttributeError(name)

    def tag(self, i):
        """The i-th valid TelemetryTag (0 <= i < tag_count), a reused object."""
        if i >= self.tag_count:
            raise IndexError("tag index out of range")
        return self._tags[i]

    def tags(self):
        """The valid tags as a list of (key, value) tuples (allocates; for hosts and tests)."""
        return [(t.key, t.value) for t in self._tags[: self.tag_count]]

    @micropython.native
    def add_tag(self, key, value):
        """Append a tag; when all slots are taken it is counted in tags_dropped."""
        n = self.tag_count
        if n == MAX_FAILURE_SNAPSHOT_TAGS:
            self.tags_dropped += 1
            return
        t = self._tags[n]
        t.key = key
        t.value = value
        self.tag_count = n + 1

    @micropython.native
    def set_description(self, text):
        """Copy `text` (a str) into the slot's buffer, truncating at DESCRIPTION_CAPACITY."""
        n = copy_str(self._description, 0, text, DESCRIPTION_CAPACITY)
        if n < 0:
            self.description_len = -1 - n
            self.description_truncated = True
        else:
            self.description_len = n
            self.description_truncated = False

    @micropython.native
    def capture(self, info):
        """Fill every field of this slot from a root FailureInfo (see root_escalation_sink).

        Never raises on what the user's exception carries: unreadable args
        give an empty reason; tags that are not (key, value) pairs, in a tuple
        or list, are counted in tags_dropped (and a telemetry_tags that raises
        counts one).
        """
        # Inlined (add_tag, set_description) and `x.__class__ is T` rather
        # than isinstance() where exact types are the rule: on an RP2040 this
        # takes 180 us where calls and isinstance() took 300.
        actor = info.actor
        error = info.error
        self.sequence = info.sequence
        self.timestamp_ms = info.timestamp_ms
        self.actor_id = actor.id
        self.path = actor.path.segments
        self.error_type = error.__class__.__name__
        self.component = actor.component
        self.endpoint = actor.endpoint
        self.transport = actor.transport
        self.stage = info.stage
        reason = ""
        try:
            args = error.args
            if len(args):
                a = args[0]
                if a.__class__ is _str or isinstance(a, _str):
                    reason = a
        except Exception as e:  # noqa: BLE001 - user data must not break supervision
            clear_traceback(e)
        self.reason = reason
        n = copy_str(self._description, 0, reason, DESCRIPTION_CAPACITY)
        if n < 0:
            self.description_len = -1 - n
            self.description_truncated = True
        else:
            self.description_len = n
            self.description_truncated = False
        # The actor's spawn tags, then the error's own: each a tuple (or list)
        # of (key, value) pairs; anything else is counted, never raised.
        tags = self._tags
        n = 0
        dropped = 0
        pairs = actor.tags
        second = False
        try:
            while True:
                c = pairs.__class__
                if c is _tuple or c is _list or isinstance(pairs, _SEQUENCES):
                    for kv in pairs:
                        c = kv.__class__
                        if (c is _tuple or c is _list or isinstance(kv, _SEQUENCES)) and len(kv) == 2:
                            if n < MAX_FAILURE_SNAPSHOT_TAGS:
                                t = tags[n]
                                t.key = kv[0]
                                t.value = kv[1]
                                n += 1
                            else:
                                dropped += 1
                        else:
                            dropped += 1
                elif pairs is not None:
                    dropped += 1
                if second or not isinstance(error, TaggedError):
                    break
                second = True
                pairs = error.telemetry_tags
        except Exception as e:  # noqa: BLE001 - e.g. a telemetry_tags property that raises
            clear_traceback(e)
            dropped += 1
        self.tag_count = n
        self.tags_dropped = dropped

    @micropython.native
    def copy_from(self, other):
        """Make this slot a copy of `other` (the description bytes are copied)."""
        self.sequence = other.sequence
        self.timestamp_ms = other.timestamp_ms
        self.actor_id = other.actor_id
        self.path = other.path
        self.error_type = other.error_type
        self.reason = other.reason
        n = other.description_len
        copy_bytes(self._description, 0, other._description, n)
        self.description_len = n
        self.description_truncated = other.description_truncated
        self.component = other.component
        self.endpoint = other.endpoint
        self.transport = other.transport
        self.stage = other.stage
        n = other.tag_count
        if n > MAX_FAILURE_SNAPSHOT_TAGS:
            n = MAX_FAILURE_SNAPSHOT_TAGS
        mine = self._tags
        theirs = other._tags
        for i in range(n):
            t = mine[i]
            u = theirs[i]
            t.key = u.key
            t.value = u.value
        self.tag_count = n
        self.tags_dropped = other.tags_dropped

    def clear(self):
        """Forget the previous failure (keeps the buffers)."""
        self.path = ()
        self.error_type = ""
        self.reason = ""
        self.description_len = 0
        self.description_truncated = False
        self.component = ""
        self.endpoint = ""
        self.transport = ""
        self.stage = 0
        for t in self._tags:
            t.key = ""
            t.value = ""
        self.tag_count = 0
        self.tags_dropped = 0


class SnapshotPool:
    """A fixed set of FailureSnapshot slots created up front.

    acquire() returns a free slot or None when all are in use (the caller
    counts the drop); release() gives it back. Neither allocates.
    """

    def __init__(self, slots):
        if slots < 1:
            raise ValueError("snapshot pool needs at least 1 slot, got %d" % slots)
        self._slots = [FailureSnapshot() for _ in range(slots)]
        for i in range(slots):
            self._slots[i]._slot = i
        self._busy = bytearray(slots)
        self.capacity = slots

    def acquire(self):
        """A free slot, still holding its previous failure (capture() overwrites it all)."""
        busy = self._busy
        for i in range(self.capacity):
            if not busy[i]:
                busy[i] = 1
                return self._slots[i]
        return None

    def release(self, snapshot):
        """Give a slot back."""
        self._busy[snapshot._slot] = 0

    def in_use(self):
        """How many slots are taken now."""
        n = 0
        for b in self._busy:
            n += b
        return n
