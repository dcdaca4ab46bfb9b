# cellex.compat: the one place where MicroPython and CPython differ.
# MIT licence.
#
# Everything else in the package imports time, heap-lock and byte-copy helpers
# from here, so the rest of the code base has no interpreter checks.
import sys

MICROPYTHON = sys.implementation.name == "micropython"

# Native code: modules write `from cellex.compat import micropython` and
# decorate with `@micropython.native` / `@micropython.viper`. MicroPython's
# compiler recognises the decorator by its spelling (the name bound here is
# the real module); on CPython the stand-in below makes both decorators
# no-ops. Native code keeps its frame on the C stack (a bytecode function
# with more than 11 words of locals, stack and try blocks takes its frame
# from the heap on every call) and cannot re-raise with a bare `raise`
# (NotImplementedError: native raise): write `raise e`. A package with native
# code must be compiled for the board's architecture (mpy-cross -march=...,
# see docs/boards.md); from .py source the board's own compiler does it.
if MICROPYTHON:
    import time

    import micropython

    const = micropython.const
    ticks_ms = time.ticks_ms
    ticks_us = time.ticks_us
    ticks_add = time.ticks_add
    ticks_diff = time.ticks_diff
    heap_lock = micropython.heap_lock
    heap_unlock = micropython.heap_unlock
    sleep_ms = time.sleep_ms

    # Interrupts: the board's machine module; the unix port has none to mask.
    try:
        import machine

        disable_irq = machine.disable_irq  # pyright: ignore[reportAssignmentType, reportAttributeAccessIssue]
        enable_irq = machine.enable_irq  # pyright: ignore[reportAssignmentType, reportAttributeAccessIssue]
    except (ImportError, AttributeError):

        def disable_irq():
            return 0

        def enable_irq(state):
            pass

    # machine.idle() waits for the next interrupt (WFI) on a board; the unix
    # port's returns at once, so there the idle hook sleeps instead.
    cpu_idle = None
    if sys.platform not in ("linux", "darwin", "windows", "win32"):
        try:
            import machine

            cpu_idle = machine.idle
        except (ImportError, AttributeError):
            pass

    # MicroPython grows an exception's traceback each time the same instance
    # is raised. Storing None to __traceback__ clears it only on the built-in
    # types; on an instance of a user subclass the store lands in the
    # instance's own dict instead (and allocates), so those are left alone.
    _CLEARABLE = (
        Exception, OSError, ValueError, RuntimeError, TypeError, KeyError, IndexError,
        AttributeError, ZeroDivisionError, NotImplementedError, AssertionError,
        MemoryError, StopIteration, LookupError, ArithmeticError, OverflowError,
    )  # fmt: skip

    def clear_traceback(error):
        """Drop a handled exception's traceback where MicroPython allows (see above)."""
        if type(error) in _CLEARABLE:
            error.__traceback__ = None

    @micropython.viper
    def _copy_str(dst: ptr8, off: int, src: ptr8, cap: int) -> int:  # noqa: F821
        # A MicroPython str is NUL-terminated in memory, so its UTF-8 bytes
        # can be copied without knowing their count (len() counts chars).
        i = 0
        while i < cap:
            b = src[i]
            if b == 0:
                break
            dst[off + i] = b
            i += 1
        if i == cap and src[i] != 0:
            # Truncated: do not leave half of a UTF-8 sequence behind.
            while i > 0 and (src[i] & 0xC0) == 0x80:
                i -= 1
            return -1 - i
        return i

    @micropython.viper
    def _copy_bytes(dst: ptr8, off: int, src: ptr8, n: int):  # noqa: F821
        i = 0
        while i < n:
            dst[off + i] = src[i]
            i += 1

else:
    import time

    def const(x):
        return x

    class micropython:  # noqa: N801 - stands in for the module of that name
        """CPython stand-in: @micropython.native / .viper leave the function as it is."""

        @staticmethod
        def native(fn):
            return fn

        @staticmethod
        def viper(fn):
            return fn

        const = staticmethod(const)

    # ticks wrap like MicroPython's on a 32-bit port (TICKS_PERIOD = 2**30),
    # so wrap-around bugs show up on the host too.
    _PERIOD = 1 << 30
    _HALF = _PERIOD >> 1
    _T0 = time.monotonic_ns()

    def ticks_ms():
        return ((time.monotonic_ns() - _T0) // 1000000) & (_PERIOD - 1)

    def ticks_us():
        return ((time.monotonic_ns() - _T0) // 1000) & (_PERIOD - 1)

    def ticks_add(t, delta):
        return (t + delta) & (_PERIOD - 1)

    def ticks_diff(a, b):
        return ((a - b + _HALF) & (_PERIOD - 1)) - _HALF

    def heap_lock():
        return 0

    def sleep_ms(ms):
        time.sleep(ms / 1000)

    def disable_irq():
        return 0

    def enable_irq(state):
        pass

    cpu_idle = None

    def clear_traceback(error):
        """Drop a handled exception's traceback, so re-raising it does not grow it."""
        error.__traceback__ = None

    def heap_unlock():
        return 0

    def _copy_str(dst, off, src, cap):
        data = src.encode()
        n = len(data)
        if n > cap:
            while cap > 0 and (data[cap] & 0xC0) == 0x80:
                cap -= 1
            dst[off:off + cap] = data[:cap]
            return -1 - cap
        dst[off:off + n] = data
        return n

    def _copy_bytes(dst, off, src, n):
        dst[off:off + n] = src[:n]




def copy_str(dst, off, src, cap):
    """Copy the UTF-8 bytes of str `src` into `dst[off:]`, at most `cap` bytes.

    Returns the count copied, or ``-1 - count`` when `src` was longer than
    `cap` (truncated; never inside a UTF-8 sequence). Allocates nothing on
    MicroPython. A str with an embedded NUL is cut at the NUL there.
    """
    return _copy_str(dst, off, src, cap)


def copy_bytes(dst, off, src, n):
    """Copy `n` bytes of buffer `src` into `dst[off:]` without allocating."""
    _copy_bytes(dst, off, src, n)
