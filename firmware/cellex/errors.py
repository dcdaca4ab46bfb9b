# cellex.errors: exceptions that can be raised again and again without growing the heap.
# MIT licence.
#
# MicroPython appends to an exception's traceback every time the same instance is
# raised (24 B per raise on a 32-bit board, never freed while the instance lives),
# and cellex can clear it only on built-in types (see compat.clear_traceback). One
# exception is made for a traceback that lives in the emergency exception buffer:
# MicroPython never grows that one. It lands there when the instance is first raised
# while the heap is locked, which is what preallocated() does. The unix port has a
# static buffer; boards have none until micropython.alloc_emergency_exception_buf()
# is called, which preallocated() does once per VM.
from cellex.compat import MICROPYTHON, heap_lock, heap_unlock

# Bytes for the emergency buffer: MicroPython's docs suggest 100; its first 24 B
# (32-bit) hold the two-entry traceback that preallocated() pins instances to.
EMERGENCY_BUFFER_BYTES = 100
_reserved = [False]  # once per VM: a second buffer would leave pinned tracebacks in the old one


def reserve_emergency_buffer():
    """Give the VM an emergency exception buffer where the port has none by default.

    Called by preallocated(); only the first call allocates."""
    if MICROPYTHON and not _reserved[0]:
        import micropython

        alloc = getattr(micropython, "alloc_emergency_exception_buf", None)
        if alloc is not None:
            alloc(EMERGENCY_BUFFER_BYTES)
        _reserved[0] = True


def preallocated(error):
    """Return `error` made safe to raise repeatedly: its traceback never grows.

    Use it for module-level instances of your own exception classes:
        _TIMEOUT = preallocated(SensorTimeout("i2c read timed out"))
    Its traceback is kept in the VM's shared emergency buffer (two entries, the
    latest raises of any pinned exception), so a printed traceback of a pinned
    exception can point at the wrong line: the price of a flat heap. Built-in
    types need no pinning (cellex clears their traceback) but take no harm.
    Must be called before the instance is first raised. CPython: returns it
    unchanged (cellex clears every handled failure's traceback there)."""
    if MICROPYTHON:
        reserve_emergency_buffer()
        heap_lock()
        try:
            raise error
        except BaseException:  # noqa: S110 - raised only to attach the pinned traceback
            pass
        finally:
            heap_unlock()
    return error
