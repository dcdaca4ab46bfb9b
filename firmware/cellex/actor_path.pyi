# Typed API of cellex.actor_path (the implementation is actor_path.py; a test keeps the two in step).

class ActorPath:
    """An actor's place in the tree, e.g. /user/sensors/imu; str(path) is the slash-joined form."""

    segments: tuple[str, ...]
    def __init__(self, segments: tuple[str, ...]) -> None: ...
    @property
    def name(self) -> str: ...
    def child(self, name: str) -> ActorPath: ...
