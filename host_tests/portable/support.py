# support: helpers shared by the portable tests (CPython and MicroPython alike).
# MIT licence.
import gc
import sys

MICROPYTHON = sys.implementation.name == "micropython"

if MICROPYTHON:
    import io

    import micropython
else:
    import tracemalloc


# A per-call leak in a loop of thousands of messages or failures is far above this.
_CPYTHON_SLACK_BYTES = 1024


class SkipTest(Exception):
    """Raised by a portable test that cannot run on this interpreter."""


def skip(reason):
    raise SkipTest(reason)


def data_path(name):
    """Path of a shared data file such as docs/wire-vectors.json.

    On the host it is read from the repo's docs/; on a board, from the test
    folder, where the board runner copies every docs/*.json.
    """
    import os

    here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    local = here + "/" + name
    try:
        os.stat(local)
        return local
    except OSError:
        return here + "/../../docs/" + name


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
    allocation raises MemoryError (its traceback is in the failure message).
    CPython: runs it after two warm-up calls and fails if three more calls
    leave more than 1 KiB of net heap growth (tracemalloc).
    Returns fn's result. fn takes no arguments: MicroPython's `f(*args)`
    allocates, so bind arguments in a closure made before the check.
    """
    if MICROPYTHON:
        gc.collect()
        micropython.heap_lock()
        try:
            result = fn()
        except MemoryError as e:
            micropython.heap_unlock()
            where = io.StringIO()
            sys.print_exception(e, where)
            raise AssertionError("allocated on the heap while it was locked:\n" + where.getvalue()) from None
        micropython.heap_unlock()
        return result
    fn()
    fn()
    growth = heap_growth(fn)
    if growth > _CPYTHON_SLACK_BYTES:
        raise AssertionError("net heap growth of " + str(growth) + " bytes")
    return fn()


def heap_growth(fn, repeat=3):
    """Bytes the heap grew by over `repeat` calls of fn(), after a garbage collection.

    MicroPython: gc.mem_alloc() before and after. CPython: tracemalloc's net
    difference (CPython boxes ints above 256: a counter passing 256 adds a
    few dozen bytes once).
    """
    if MICROPYTHON:
        gc.collect()
        before = gc.mem_alloc()
        for _ in range(repeat):
            fn()
        gc.collect()
        return gc.mem_alloc() - before
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.take_snapshot()
        for _ in range(repeat):
            fn()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        if started:
            tracemalloc.stop()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
    diff = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    return sum(d.size_diff for d in diff)


class FakeClock:
    """A ticks_ms source the test moves by hand."""

    def __init__(self, start=0):
        self.now = start

    def ticks_ms(self):
        return self.now

    def advance(self, ms):
        self.now += ms
