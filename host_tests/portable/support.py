# support: helpers shared by the portable tests (CPython and MicroPython alike).
# MIT licence.
import gc
import sys

MICROPYTHON = sys.implementation.name == "micropython"

if MICROPYTHON:
    import micropython
else:
    import tracemalloc


class SkipTest(Exception):
    """Raised by a portable test that cannot run on this interpreter."""


def skip(reason):
    raise SkipTest(reason)


def assert_raises(exc_type, fn, *args):
    """Call fn(*args); return the exception it raised, fail if it raised none."""
    try:
        fn(*args)
    except exc_type as e:
        return e
    raise AssertionError("expected " + exc_type.__name__ + " from " + repr(fn))


def assert_no_alloc(fn):
    """Fail if calling fn() allocates on the heap.

    MicroPython: runs it once with micropython.heap_lock() held, so the first
    allocation raises MemoryError. CPython: runs it after two warm-up calls and
    fails if three more calls leave any net heap growth (tracemalloc).
    Returns fn's result. fn takes no arguments: MicroPython's `f(*args)`
    allocates, so bind arguments in a closure made before the check.
    """
    if MICROPYTHON:
        gc.collect()
        micropython.heap_lock()
        try:
            result = fn()
        except MemoryError:
            micropython.heap_unlock()
            raise AssertionError("allocated on the heap while it was locked: " + repr(fn)) from None
        micropython.heap_unlock()
        return result
    fn()
    fn()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.take_snapshot()
        for _ in range(3):
            result = fn()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        if started:
            tracemalloc.stop()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
    diff = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    growth = sum(d.size_diff for d in diff if d.size_diff > 0)
    if growth > 0:
        worst = max(diff, key=lambda d: d.size_diff)
        raise AssertionError("net heap growth of " + str(growth) + " bytes, most at " + str(worst))
    return result


class FakeClock:
    """A ticks_ms source the test moves by hand."""

    def __init__(self, start=0):
        self.now = start

    def ticks_ms(self):
        return self.now

    def advance(self, ms):
        self.now += ms
