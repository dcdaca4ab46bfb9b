# The reset-surviving record (cellex.reset_record): layout, validity, no allocation (both interpreters).
# MIT licence.
import support
from cellex.reset_record import (
    FileStore,
    MemoryStore,
    ResetRecord,
    crc8_words,
    error_index,
    error_name,
    running_word,
)
from cellex.wire import error_names


def test_a_cold_store_is_not_valid_and_boot_starts_counting_at_one():
    store = MemoryStore()
    rec = ResetRecord(store)
    assert not rec.boot()
    assert (rec.boot_count, rec.has_failure, rec.running_id) == (0, False, 0)
    again = ResetRecord(store)
    assert again.boot()
    assert (again.boot_count, again.has_failure) == (1, False)
    third = ResetRecord(store)
    third.boot()
    assert third.boot_count == 2


def test_a_recorded_failure_and_the_running_actor_survive_into_the_next_boot():
    store = MemoryStore()
    ResetRecord(store).boot()
    rec = ResetRecord(store)
    rec.boot()
    rec.record_failure(7, OSError(5), 2, 0x1234, 123456)
    rec.set_running(9)
    after = ResetRecord(store)
    assert after.boot()
    assert after.boot_count == 2
    assert after.has_failure
    assert (after.actor_id, error_name(after.error_index), after.stage) == (7, "OSError", 2)
    assert (after.sequence, after.uptime_ms, after.running_id) == (0x1234 & 0x7FF, 123456, 9)
    # this boot's record starts clean
    nxt = ResetRecord(store)
    nxt.boot()
    assert (nxt.boot_count, nxt.has_failure, nxt.running_id) == (3, False, 0)


def test_every_word_stays_a_small_int_and_fields_saturate():
    store = MemoryStore()
    rec = ResetRecord(store)
    rec.boot()
    rec.record_failure(1000, KeyError(), 40, -1, 1 << 31)
    for w in store.words:
        assert 0 <= w < (1 << 30), hex(w)
    rec.read()
    assert (rec.actor_id, rec.stage, rec.uptime_ms) == (255, 15, (1 << 30) - 1)
    assert error_name(rec.error_index) == "KeyError"


def test_a_torn_or_corrupted_record_is_not_valid():
    store = MemoryStore()
    rec = ResetRecord(store)
    rec.boot()
    rec.record_failure(3, ValueError(), 1, 5, 1000)
    store.words[3] ^= 1  # uptime changed after the CRC was taken
    assert not ResetRecord(store).read()
    rec.record_failure(3, ValueError(), 1, 5, 1000)
    assert ResetRecord(store).read()
    store.words[1] = 5  # running word without its complement: ignored, record still valid
    check = ResetRecord(store)
    assert check.read() and check.running_id == 0
    rec.clear()
    assert not ResetRecord(store).read()


def test_layout_matches_the_spec():
    # docs/boot-frame.md: w0 = magic 0x2D << 24 | crc8 << 16 | boots
    store = MemoryStore()
    rec = ResetRecord(store)
    rec.boot()
    rec.record_failure(7, OSError(), 2, 42, 5000)
    w0, w1, w2, w3 = store.words
    assert w0 >> 24 == 0x2D and w0 & 0xFFFF == 1
    assert (w0 >> 16) & 0xFF == crc8_words(w0, w2, w3)
    # OSError is wire code 1 (wire-format §4): index 2
    assert w2 == (1 << 29) | (7 << 21) | (2 << 15) | (2 << 11) | 42
    assert w3 == 5000 and w1 == running_word(0) == 0xFFF000
    assert crc8_words(0, 0, 0) == 0


def test_a_record_names_errors_by_the_wire_codes_and_0_for_any_other_class():
    names = error_names()
    assert error_index(Exception()) == 1 and error_index(support.SkipTest()) == 0
    assert [error_index(e) for e in (OSError(), KeyError(), ZeroDivisionError())] == [
        names.index("OSError") + 1, names.index("KeyError") + 1, names.index("ZeroDivisionError") + 1,
    ]  # fmt: skip
    assert (error_name(0), error_name(1), error_name(len(names)), error_name(len(names) + 1)) == (
        "", "Exception", names[-1], "",
    )  # fmt: skip


def test_recording_a_failure_and_the_running_actor_take_no_heap_block():
    rec = ResetRecord(MemoryStore())
    rec.boot()
    err = ValueError("x")

    def record():
        rec.record_failure(4, err, 1, 77, 99999)
        rec.set_running(4)
        rec.set_running(0)

    support.assert_no_gross_alloc(record)
    support.assert_no_alloc(record)


def test_a_file_store_keeps_the_record_across_instances_and_writes_without_allocating():
    import os

    path = "_reset_record_test.bin"
    try:
        os.remove(path)
    except OSError:
        pass
    try:
        store = FileStore(path)
        rec = ResetRecord(store)
        assert not rec.boot()
        err = RuntimeError("x")

        def record():
            rec.record_failure(2, err, 0, 3, 4242)

        support.assert_no_gross_alloc(record)
        store.close()
        after = ResetRecord(FileStore(path))
        assert after.boot() and after.has_failure
        assert (after.actor_id, error_name(after.error_index), after.uptime_ms) == (2, "RuntimeError", 4242)
        after.store.close()
    finally:
        try:
            os.remove(path)
        except OSError:
            pass
