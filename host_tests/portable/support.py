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


def board_budget(seconds):
    """Decorator: this test may take up to `seconds` on a board (pytest --board), where the
    session's --board-timeout is too short; an emulated RP2040 runs bytecode ~160x slower
    than the unix port. The host reads it from the CPython function; MicroPython ignores it."""

    def mark(fn):
        if not MICROPYTHON:
            fn.board_budget_s = seconds
        return fn

    return mark


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


# -- gross allocation --------------------------------------------------------
#
# heap_lock() cannot prove "no allocation": with the heap locked MicroPython
# quietly moves a big function frame to the C stack, and a block taken and
# given back within the call leaves no net trace either. The gross check sees
# both, with the heap unlocked:
#   * gc.threshold(0) makes the very next allocation run a collection first,
#     and a collection frees the garbage planted just before the call, so
#     gc.mem_alloc() moves even when the block itself was freed again (this
#     catches leaf functions too: a frame freed on return);
#   * GROSS.sample(), called from the callbacks the call makes (an actor's
#     receive(), a back-end's on_failure(), on_restart()...), reads
#     gc.mem_alloc() while the caller's frames are alive: it gives the size
#     of what was taken (e.g. "+288 B");
#   * the net change over the call.
# Ports without gc.threshold() keep the last two. CPython: tracemalloc's peak
# over the call, above a slack (CPython allocates frames' objects, ints above
# 256 and tracebacks on its own; the real proof is MicroPython's).

_CPYTHON_GROSS_SLACK_BYTES = 1024
_GARBAGE_BLOCKS = 16


class GrossProbe:
    """Heap samples taken inside a call: GROSS.sample() from any callback.

    Allocates nothing itself (small ints, attributes that exist). A no-op
    unless a gross check is running, and always on CPython.
    """

    def __init__(self):
        self.armed = False
        self.base = 0
        self.low = 0
        self.high = 0
        self.samples = 0

    def arm(self, base):
        self.base = base
        self.low = 0
        self.high = 0
        self.samples = 0
        self.armed = True

    def sample(self):
        if self.armed:
            if MICROPYTHON:
                d = gc.mem_alloc() - self.base
                if d > self.high:
                    self.high = d
                if d < self.low:
                    self.low = d
            self.samples += 1


GROSS = GrossProbe()


def _plant_garbage():
    # Unreachable blocks a collection will free. Made one by one, so at most
    # the last can be held by a stale pointer on the C stack.
    for _ in range(_GARBAGE_BLOCKS):
        g = bytearray(40)  # noqa: F841
    return None


def gross_alloc(fn, trip=True):
    """Bytes calling fn() took from the heap, gross: 0 when it took no block at all.

    MicroPython: the largest move of gc.mem_alloc() seen inside the call
    (GROSS.sample() in its callbacks) or after it, with gc.threshold(0)
    turning any allocation into a visible collection (a freed block shows as
    the collected garbage, a negative move; its absolute value is reported).
    CPython: tracemalloc peak over the call minus the slack it always needs
    (see _CPYTHON_GROSS_SLACK_BYTES), floored at 0.
    trip=False leaves gc.threshold() alone: only the samples and the net
    change count (what a freed block was, in bytes, rather than that one was).
    fn takes no arguments (bind them in a closure made before the call).
    """
    if MICROPYTHON:
        has_threshold = trip and hasattr(gc, "threshold")
        old = gc.threshold() if has_threshold else -1
        gc.collect()
        _plant_garbage()
        if has_threshold:
            gc.threshold(0)
        base = gc.mem_alloc()
        GROSS.arm(base)
        try:
            fn()
        finally:
            after = gc.mem_alloc()
            GROSS.armed = False
            if has_threshold:
                gc.threshold(old)
        worst = after - base
        if GROSS.high > worst:
            worst = GROSS.high
        if -GROSS.low > worst:
            worst = -GROSS.low
        if base - after > worst:
            worst = base - after
        return worst
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        GROSS.arm(0)
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        GROSS.armed = False
        if started:
            tracemalloc.stop()
    return max(0, peak - before - _CPYTHON_GROSS_SLACK_BYTES)


def assert_no_gross_alloc(fn, warm=1):
    """Fail if calling fn() takes any heap block, even one it gives back (see gross_alloc).

    fn is called `warm` times first (first calls may fill caches). The heap
    must be unlocked: use assert_no_alloc() for the heap-locked check. Returns
    how many GROSS.sample() calls the check saw (a test asserting it is > 0
    proves its callbacks ran inside the checked call).
    """
    for _ in range(warm):
        fn()
    taken = gross_alloc(fn)
    samples = GROSS.samples
    if taken:
        detail = ""
        if MICROPYTHON:
            # Again without the trip wire, for the size of what was taken.
            gross_alloc(fn, False)
            detail = " (a collection ran; without gc.threshold(0): %d samples inside saw %+d..%+d B)" % (
                GROSS.samples, GROSS.low, GROSS.high,
            )  # fmt: skip
        raise AssertionError("took heap blocks during the call: " + str(taken) + " B" + detail)
    return samples


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
