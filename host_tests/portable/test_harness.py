# The harness's own promises: the no-allocation check can fail.
import support


def _allocating_block():
    return [1, 2, 3]


def _quiet_block():
    return 1 + 1


def test_no_alloc_check_passes_a_block_that_does_not_allocate():
    assert support.assert_no_alloc(_quiet_block) == 2


def test_no_alloc_check_catches_a_block_that_allocates():
    kept = []

    def grow():
        # The CPython check looks for net growth, so keep what is allocated.
        for _ in range(100):
            kept.append(bytearray(64))

    e = support.assert_raises(AssertionError, support.assert_no_alloc, grow)
    assert "heap" in e.args[0]
    if not support.MICROPYTHON:
        return
    e = support.assert_raises(AssertionError, support.assert_no_alloc, _allocating_block)
    assert "locked" in e.args[0]


def test_runs_under_the_interpreter_it_names():
    import sys

    assert sys.implementation.name in ("cpython", "micropython")
