# FailureSnapshot and SnapshotPool on their own.
from cellex.snapshot import DESCRIPTION_CAPACITY, MAX_FAILURE_SNAPSHOT_TAGS, FailureSnapshot, SnapshotPool
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
