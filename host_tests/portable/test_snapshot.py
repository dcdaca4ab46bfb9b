# FailureSnapshot and SnapshotPool on their own.
from cellex.snapshot import (
    DESCRIPTION_CAPACITY,
    MAX_FAILURE_SNAPSHOT_TAGS,
    FailureSnapshot,
    SnapshotPool,
    TaggedError,
)
from support import assert_no_alloc, assert_raises


def test_the_pool_hands_out_each_slot_once_then_none():
    pool = SnapshotPool(2)
    a = pool.acquire()
    b = pool.acquire()
    assert a is not None and b is not None and a is not b
    assert pool.acquire() is None
    assert pool.in_use() == 2


def test_a_released_slot_can_be_acquired_again():
    pool = SnapshotPool(1)
    s = pool.acquire()
    assert pool.acquire() is None
    pool.release(s)
    assert pool.acquire() is s


def test_acquire_and_release_allocate_nothing():
    pool = SnapshotPool(3)

    def cycle():
        s = pool.acquire()
        pool.release(s)

    assert_no_alloc(cycle)


def test_a_description_is_cut_on_a_character_boundary():
    s = FailureSnapshot()
    text = "x" * (DESCRIPTION_CAPACITY - 1) + "é"  # é is 2 bytes in UTF-8
    s.set_description(text)
    assert s.description == "x" * (DESCRIPTION_CAPACITY - 1)
    assert s.description_truncated is True


def test_a_description_that_fits_exactly_is_not_marked_truncated():
    s = FailureSnapshot()
    s.set_description("y" * DESCRIPTION_CAPACITY)
    assert s.description_len == DESCRIPTION_CAPACITY
    assert s.description_truncated is False


def test_copying_a_description_allocates_nothing():
    s = FailureSnapshot()
    text = "sensor read timeout on bus i2c0 after 3 tries, giving up now"
    assert_no_alloc(lambda: s.set_description(text))
    assert s.description_len == DESCRIPTION_CAPACITY


def test_tags_past_the_fixed_slots_are_counted_not_kept():
    s = FailureSnapshot()
    for i in range(MAX_FAILURE_SNAPSHOT_TAGS + 2):
        s.add_tag("k", str(i))
    assert s.tag_count == MAX_FAILURE_SNAPSHOT_TAGS
    assert s.tags_dropped == 2
    assert s.tag(3).value == "3"
    assert_raises(IndexError, s.tag, MAX_FAILURE_SNAPSHOT_TAGS)


def test_copy_from_makes_an_independent_copy_of_the_description():
    a = FailureSnapshot()
    a.set_description("first")
    a.add_tag("k", "v")
    b = FailureSnapshot()
    b.copy_from(a)
    a.set_description("second")
    assert b.description == "first"
    assert b.tags() == [("k", "v")]


def test_a_pool_needs_at_least_one_slot():
    assert "at least 1" in assert_raises(ValueError, SnapshotPool, 0).args[0]


# --- user data on the failure path (issue 15 item 4) ---------------------------


class _Path:
    def __init__(self, segments):
        self.segments = segments


class _Actor:
    """What capture() reads of an ActorRef."""

    def __init__(self, tags=()):
        self.id = 3
        self.path = _Path(("user", "imu"))
        self.component = "imu"
        self.endpoint = ""
        self.transport = ""
        self.tags = tags


class _Info:
    """What capture() reads of a root FailureInfo."""

    def __init__(self, actor, error):
        self.actor = actor
        self.error = error
        self.sequence = 7
        self.timestamp_ms = 99
        self.stage = 1


def _tagged(tags):
    e = TaggedError("bad tags")
    e.telemetry_tags = tags
    return e


def test_pairs_that_are_not_pairs_are_counted_in_tags_dropped():
    cases = (
        (("bus",), [], 1),  # one element instead of pairs
        (("bus", "i2c0"), [], 2),  # a flat pair instead of a tuple of pairs
        ((("a", "b", "c"),), [], 1),
        (("ab", ("k", "v")), [("k", "v")], 1),  # a 2-character str is not a pair
        ([["k", "v"]], [("k", "v")], 0),  # lists are fine
        ({"k": "v"}, [], 1),
        ("kv", [], 1),
        (5, [], 1),
        (None, [], 0),
        ((), [], 0),
    )
    for tags, kept, dropped in cases:
        s = FailureSnapshot()
        s.capture(_Info(_Actor(), _tagged(tags)))
        assert (s.tags(), s.tags_dropped) == (kept, dropped), tags
        assert s.reason == "bad tags" and s.tag_count == len(kept)


def test_telemetry_tags_that_raise_are_counted_and_the_rest_is_captured():
    class Raises(TaggedError):
        @property
        def telemetry_tags(self):
            raise KeyError("no tags today")

    s = FailureSnapshot()
    s.capture(_Info(_Actor((("bus", "i2c0"),)), Raises("read timeout")))
    assert s.tags() == [("bus", "i2c0")] and s.tags_dropped == 1
    assert (s.error_type, s.reason, s.description) == ("Raises", "read timeout", "read timeout")


def test_spawn_tags_are_held_to_the_same_rules():
    s = FailureSnapshot()
    s.capture(_Info(_Actor((("bus", "i2c0"), ("lonely",), 7)), ValueError("x")))
    assert s.tags() == [("bus", "i2c0")] and s.tags_dropped == 2


def test_capturing_malformed_tags_allocates_nothing():
    s = FailureSnapshot()
    infos = [_Info(_Actor((("bus", "i2c0"),)), _tagged(tags)) for tags in (("bus",), (("a", "b", "c"),), 5)]

    def capture():
        for info in infos:
            s.capture(info)
        return s.tags_dropped

    assert assert_no_alloc(capture) == 1
    assert s.tags() == [("bus", "i2c0")]


def test_capture_reads_a_tuple_of_pairs_without_allocating():
    s = FailureSnapshot()
    actor = _Actor((("bus", "i2c0"), ("addr", "0x68")))
    info = _Info(actor, _tagged((("retry", "3"), ("x", "y"), ("z", "w"))))
    assert_no_alloc(lambda: s.capture(info))
    assert s.tag_count == MAX_FAILURE_SNAPSHOT_TAGS and s.tags_dropped == 1
