# cellex.aio: run an ActorSystem as an asyncio task, beside asyncio drivers (sockets, BLE).
# MIT licence.
#
# `await system.run_async()` dispatches until no actor is ready, then waits
# on an asyncio.ThreadSafeFlag (asyncio.Event on CPython) until the earliest
# deadline or until post() sets the flag: from an interrupt handler, or from
# a coroutine handing a result back to an actor:
#
#     class Fetcher(Actor):
#         def receive(self, msg):
#             if msg == FETCH:
#                 asyncio.create_task(self.fetch())    # work for asyncio
#             else:
#                 ...                                  # ("reading", value)
#
#         async def fetch(self):
#             value = await sensor.read()
#             self.system.post(self.ref, ("reading", value))
#
# Dispatching allocates nothing, as in run_forever(); asyncio itself takes a
# few blocks per wake-up (the flag's wait() coroutine, wait_for's task).
import asyncio

from cellex.compat import MICROPYTHON, ticks_diff
from cellex.post import NO_WAKER

if MICROPYTHON:
    _Flag = asyncio.ThreadSafeFlag

    async def _wait(flag, ms):
        if ms < 0:
            await flag.wait()
            return
        try:
            await asyncio.wait_for_ms(flag.wait(), ms)
        except asyncio.TimeoutError:
            pass

    async def _yield():
        await asyncio.sleep_ms(0)

else:
    _Flag = asyncio.Event

    async def _wait(flag, ms):
        try:
            if ms < 0:
                await flag.wait()
            else:
                await asyncio.wait_for(flag.wait(), ms / 1000)
        except asyncio.TimeoutError:
            pass
        flag.clear()

    async def _yield():
        await asyncio.sleep(0)


async def run_async(system):
    """Run `system` until system.stop(); see the module comment."""
    flag = _Flag()
    posts = system.posts
    clock = system._ticks_ms
    counters = system.counters
    posts.waker = flag
    system._running = True
    last = clock()
    try:
        while system._running:
            system.scheduler.run(-1)
            if posts.count or not system._running:
                await _yield()  # let other tasks run between bursts
                continue
            ms = system.sleep_ms()
            if ms == 0:
                await _yield()
                continue
            t0 = clock()
            counters.loop_ms += ticks_diff(t0, last)
            await _wait(flag, ms)
            last = clock()
            counters.idle_ms += ticks_diff(last, t0)
            counters.loop_ms += ticks_diff(last, t0)
    finally:
        posts.waker = NO_WAKER
        counters.loop_ms += ticks_diff(clock(), last)
