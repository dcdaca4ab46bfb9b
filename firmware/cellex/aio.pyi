# Typed API of cellex.aio (the implementation is aio.py; a test keeps the two in step).
from typing import Any

# system: an ActorSystem (Any, as ActorSystem.run_async passes itself: system.py is type-checked
# against these stubs, where its own class and the stub's are two types).
async def run_async(system: Any) -> None:
    """Run `system` as an asyncio task until system.stop()."""
