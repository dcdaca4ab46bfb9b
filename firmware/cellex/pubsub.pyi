# Typed API of cellex.pubsub (the implementation is pubsub.py; a test keeps the two in step).
from typing import Any

from cellex.actor_ref import ActorRef

class Topic:
    """A publish/subscribe topic (ActorSystem.topic). Read-only: name, capacity,
    subscribers, published, dropped."""

    name: str
    capacity: int
    subscribers: int
    published: int
    dropped: int
    def __init__(self, name: str, capacity: int) -> None: ...
    def subscribe(self, ref: ActorRef) -> None: ...
    def unsubscribe(self, ref: ActorRef) -> bool: ...
    def publish(self, msg: Any) -> int: ...
