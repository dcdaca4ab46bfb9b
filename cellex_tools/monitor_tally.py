"""What the monitor shows and counts: the actor-path / error-type filter and the per-actor table.

Words, kept apart on purpose: a *root failure* is a failure frame (it reached the root); an
actor's *restarts* (and resumes, stops, escalations) are its supervisor's decisions, from
supervision frames; a *reboot* is the whole board starting again (boot frame or stream start)
and is counted for the board, never per actor.
"""

from __future__ import annotations

from collections import Counter

# Column of the table for each record: failure frames, then supervision decisions.
COLUMNS = ("root failures", "restarts", "resumes", "stops", "escalations")
_DECISION_COLUMN = {
    "restarted": "restarts",
    "resumed": "resumes",
    "stopped": "stops",
    "escalated": "escalations",
}


def column_of(rec) -> str | None:
    """The table column `rec` counts in, or None for board-level records (boot, drops, heartbeat)."""
    if rec.kind == "failure":
        return "root failures"
    if rec.kind == "supervision":
        return _DECISION_COLUMN.get(rec.decision)
    return None


class RecordFilter:
    """Passes records of actors under any of `actors` (path prefixes) with any of `errors`.

    A prefix matches whole segments: "/user/sensors" passes /user/sensors and
    /user/sensors/imu, not /user/sensorsX. An empty list passes everything. Board-level
    records (boot, drop report, heartbeat) always pass: they belong to no actor.
    """

    def __init__(self, actors: list[str] | tuple[str, ...] = (), errors: list[str] | tuple[str, ...] = ()):
        self.actors = tuple("/" + a.strip("/") for a in actors)
        self.errors = frozenset(errors)

    def __call__(self, rec) -> bool:
        path = getattr(rec, "path_text", None)
        if path is None:
            return True
        if self.errors and rec.error_type not in self.errors:
            return False
        return not self.actors or any(_under(path, prefix) for prefix in self.actors)


def _under(path: str, prefix: str) -> bool:
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


class Tally:
    """Counts per actor path and per error type, one column per kind of event (COLUMNS)."""

    def __init__(self) -> None:
        self.actors: dict[str, Counter] = {}
        self.errors: dict[str, Counter] = {}

    def add(self, rec) -> None:
        column = column_of(rec)
        if column is None:
            return
        self.actors.setdefault(rec.path_text, Counter())[column] += 1
        self.errors.setdefault(rec.error_type, Counter())[column] += 1

    def total(self, column: str) -> int:
        return sum(c[column] for c in self.actors.values())

    def as_dict(self) -> dict:
        """{"actors": {path: {column: n}}, "errors": {type: {column: n}}}, every column present."""
        return {
            "actors": {k: {c: v[c] for c in COLUMNS} for k, v in sorted(self.actors.items())},
            "errors": {k: {c: v[c] for c in COLUMNS} for k, v in sorted(self.errors.items())},
        }

    def table(self) -> list[str]:
        """The two tables as text lines (none when nothing was counted)."""
        if not self.actors:
            return []
        return _table("actor", self.actors) + _table("error", self.errors)


def _table(title: str, rows: dict[str, Counter]) -> list[str]:
    width = max(len(title), *(len(k) for k in rows))
    head = title.ljust(width) + "".join("  " + c for c in COLUMNS)
    lines = [head]
    # Most root failures first, then most restarts; ties by name, so the order is stable.
    for key, counts in sorted(
        rows.items(), key=lambda kv: (-kv[1]["root failures"], -kv[1]["restarts"], kv[0])
    ):
        lines.append(key.ljust(width) + "".join("  " + str(counts[c]).rjust(len(c)) for c in COLUMNS))
    return lines
