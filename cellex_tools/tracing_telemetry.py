"""TracingFailureTelemetry: a human-readable failure back-end for hosts (not frozen into boards).

For programs that run cellex under CPython (host tests, simulations): one line per
failure, to a `logging` logger or to any text stream. It formats strings, so it
allocates; boards use the Noop, ring-buffer or UART back-ends instead.
"""

import logging

from cellex.telemetry import FailureTelemetry


def format_failure(s):
    """One line for a FailureSnapshot: sequence, path, exception, description, stage, metadata, tags."""
    parts = [
        "#%d" % s.sequence,
        "/" + "/".join(s.path),
        "%s: %s%s" % (s.error_type, s.description, "..." if s.description_truncated else ""),
        "stage=%d" % s.stage,
    ]
    for key in ("component", "endpoint", "transport"):
        value = getattr(s, key)
        if value:
            parts.append("%s=%s" % (key, value))
    parts.extend("%s=%s" % kv for kv in s.tags())
    if s.tags_dropped:
        parts.append("(+%d tags dropped)" % s.tags_dropped)
    return " ".join(parts)


class TracingFailureTelemetry(FailureTelemetry):
    """Writes format_failure(snapshot) to `stream` (a text file) or, by default, a logger."""

    def __init__(self, stream=None, logger=None, level=logging.ERROR):
        self.stream = stream
        self.logger = logger or logging.getLogger("cellex.failure")
        self.level = level

    def on_failure(self, snapshot):
        line = format_failure(snapshot)
        if self.stream is not None:
            self.stream.write(line + "\n")
        else:
            self.logger.log(self.level, line)

    def flush(self):
        if self.stream is not None:
            self.stream.flush()
