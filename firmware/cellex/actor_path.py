# cellex.actor_path: ActorPath, the segments from the root to an actor.
# MIT licence.


class ActorPath:
    """An actor's place in the tree, e.g. /user/sensors/imu.

    `segments` is a tuple of str from the root ("user", "sensors", "imu");
    str(path) is the slash-joined form, built once at spawn.
    """

    def __init__(self, segments):
        self.segments = segments
        self._text = "/" + "/".join(segments)

    @property
    def name(self):
        return self.segments[-1]

    def child(self, name):
        """The path of a child called `name` (allocates; spawn time only)."""
        return ActorPath(self.segments + (name,))

    def __str__(self):
        return self._text

    def __repr__(self):
        return "ActorPath(" + self._text + ")"

    def __eq__(self, other):
        return isinstance(other, ActorPath) and other.segments == self.segments

    def __hash__(self):
        return hash(self.segments)
