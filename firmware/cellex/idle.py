# cellex.idle: idle hooks for ActorSystem.run_forever(), called when no actor is ready.
# MIT licence.
#
# An idle hook is idle(ms): ms until the earliest deadline (a timer, a
# restart backoff), or -1 when none is armed. It may return early, at any
# time: the loop dispatches what is ready and calls it again. It must
# return once an interrupt has posted (ActorSystem.post), or posts wait
# until it does. The loop counts the time spent in it (counters.idle_ms).
# A user's hook can do more (feed a watchdog, dim a LED) and then call one
# of these. None of them allocates.
from cellex.compat import const, cpu_idle, sleep_ms

try:
    import machine
except ImportError:  # CPython
    machine = None

_NAP_MS = const(10)  # the longest sleep_idle() sleeps without a deadline


def wfi_idle(ms):
    """Wait for the next interrupt (machine.idle(): WFI). The default on a board.

    Every interrupt ends it: a post, a machine.Timer, the 1 ms tick, USB.
    """
    cpu_idle()


def sleep_idle(ms):
    """time.sleep_ms() up to the deadline (at most 10 ms when none). The default on a host.

    A post does not end the sleep early: use it where nothing posts, or
    where the latency of a nap is fine.
    """
    sleep_ms(ms if 0 <= ms <= _NAP_MS else _NAP_MS)


def lightsleep_idle(ms):
    """machine.lightsleep(ms) up to the deadline: the lowest power, opt-in.

    On the RP2040 light sleep stops the clocks, the USB device (the REPL)
    drops, and only some interrupts wake the chip: pick it for a board on a
    battery whose wake-ups all come from timers, not for a USB-attached one.
    """
    if ms > 0:
        machine.lightsleep(ms)  # pyright: ignore[reportOptionalMemberAccess, reportAttributeAccessIssue]
    else:
        machine.idle()  # pyright: ignore[reportOptionalMemberAccess]


default_idle = sleep_idle if cpu_idle is None else wfi_idle
