"""How the monitor shows records: one text line per record (optionally coloured) or JSON lines,
notices about the link, and the summary in the monitor's words.

Words, kept apart: an actor *restarts* (its supervisor's decision, from supervision frames);
the board *reboots* (a boot frame, or a stream that starts again without one). No line about
the board says "restart"; the summary's `restarts` counts actors only.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from typing import TextIO

from cellex_tools.monitor_tally import Tally
from cellex_tools.wire_decoder import Record, record_to_dict


class _Style:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        return "\x1b[%sm%s\x1b[0m" % (code, text) if self.enabled else text


def _clock_text(host_time: float | None) -> str:
    """Local wall-clock time of `host_time` (seconds since the epoch; None: now), to the ms."""
    t = datetime.datetime.fromtimestamp(time.time() if host_time is None else host_time)
    return t.strftime("%H:%M:%S.%f")[:-3]


def format_failure(rec, style: _Style | None = None, host_time: float | None = None) -> str:
    """One readable line: host time, board time, path, exception: reason, stage, metadata, tags."""
    style = style or _Style(False)
    parts = [
        style("2", _clock_text(host_time)),
        style("2", "t=%.3fs" % (rec.timestamp_ms / 1000)),
        style("1", rec.path_text),
        style("31;1", rec.error_type) + ": " + (rec.reason or "(no reason)"),
    ]
    if rec.description != rec.reason:
        parts.append("- " + rec.description)
    parts.append("stage=%d" % rec.stage)
    for name in ("component", "endpoint", "transport"):
        value = getattr(rec, name)
        if value:
            parts.append("%s=%s" % (name, value))
    parts += ["%s=%s" % kv for kv in rec.tags]
    if rec.tags_dropped:
        parts.append("(+%d tags dropped)" % rec.tags_dropped)
    parts.append(style("2", "actor=%d #%d" % (rec.actor_id, rec.sequence)))
    if rec.truncated:
        parts.append(style("33", "[cut: %s]" % ",".join(rec.truncated)))
    return "  ".join(parts)


def format_supervision(rec, style: _Style | None = None, host_time: float | None = None) -> str:
    """A supervisor's decision on an actor's failure: path, restarted / resumed / stopped /
    escalated, the error."""
    style = style or _Style(False)
    return "  ".join([
        style("2", _clock_text(host_time)),
        style("2", "t=%.3fs" % (rec.timestamp_ms / 1000)),
        style("1", rec.path_text),
        style("36;1", rec.decision),
        "after " + style("31", rec.error_type),
        "stage=%d" % rec.stage,
        style("2", "actor=%d #%d" % (rec.actor_id, rec.sequence)),
    ])  # fmt: skip


def format_boot(rec, style: _Style | None = None, host_time: float | None = None) -> str:
    """The boot frame in words: why the board rebooted, what ran, the last root failure before."""
    style = style or _Style(False)
    why = {
        "watchdog": "rebooted by the watchdog",
        "power-on": "powered on",
        "soft reset": "soft reset",
        "hard reset": "reset (reset pin / hard reset)",
        "brown-out": "rebooted after a brown-out",
        "deep sleep": "woke from deep sleep",
    }.get(rec.cause, "booted (reset cause unknown)")
    text = "== board " + why
    if rec.running_id:
        text += " while %s was running" % (rec.running_path or "actor %d" % rec.running_id)
    if rec.has_failure:
        where = rec.failure_path or "actor %d" % rec.failure_actor_id
        text += "; last root failure before that: %s %s (stage %d, #%d, at t=%.3fs)" % (
            where, rec.failure_error_type or "(error type not kept: not a well-known name)",
            rec.failure_stage, rec.failure_sequence,
            rec.failure_uptime_ms / 1000,
        )  # fmt: skip
    elif not rec.record_valid:
        text += "; no record survived (cold start)"
    text += " [boot %d]" % rec.boot_count
    return "  ".join([style("2", _clock_text(host_time)), style("35;1", text)])


def _format_drop_report(rec, style: _Style, host_time: float | None) -> str:
    return style("33", "!! board dropped %d failure(s) (total %d)" % (rec.dropped, rec.dropped_total))


def _format_heartbeat(rec, style: _Style, host_time: float | None) -> str | None:
    return style("2", "-- board started") if rec.stream_start else None


# One formatter per record kind (Record.kind); a kind without one is shown in JSON mode only.
_FORMATTERS = {
    "failure": format_failure,
    "supervision": format_supervision,
    "boot": format_boot,
    "drop_report": _format_drop_report,
    "heartbeat": _format_heartbeat,
}


class Printer:
    """Writes records and notices as text lines (optionally coloured) or JSON lines.

    `host_time` is the time the lines being printed were read (seconds since the epoch); the
    monitor sets it per chunk, so a replay prints the recorded times. None: the current time.
    """

    def __init__(self, out: TextIO, json_mode: bool = False, color: bool | None = None):
        self.out = out
        self.json = json_mode
        self.host_time: float | None = None
        if color is None:
            color = not json_mode and _isatty(out) and not os.environ.get("NO_COLOR")
        self.style = _Style(color)

    def record(self, rec: Record) -> None:
        if self.json:
            d = record_to_dict(rec)
            d["host_time"] = self._time()
            self._line(json.dumps(d, ensure_ascii=False))
            return
        formatter = _FORMATTERS.get(rec.kind)
        text = formatter(rec, self.style, self.host_time) if formatter else None
        if text is not None:
            self._line(text)

    def notice(self, text: str) -> None:
        if self.json:
            self._line(json.dumps({"type": "notice", "text": text, "host_time": self._time()}))
        else:
            self._line(self.style("33", "!! " + text))

    def summary(self, stats: dict, table: Tally | None = None, mqtt: dict | None = None) -> None:
        """The per-actor / per-error tables, the MQTT counts, and last the summary line: the
        decoder's counters (StreamDecoder.stats()) in the monitor's words (summary_counts)."""
        counts = summary_counts(stats, table, mqtt)
        if self.json:
            d = dict(counts, type="summary")
            if table is not None:
                d.update(table.as_dict())
            self._line(json.dumps(d, ensure_ascii=False))
            return
        for line in table.table() if table is not None else ():
            self._line(line)
        if mqtt is not None:
            self._line(
                "mqtt: %(offered)d offered, %(acked)d acknowledged by the broker, %(lost)d lost "
                "(queue full), %(unsent)d unsent at exit; at most %(max_queued)d waited" % mqtt
            )
        self._line(
            "summary: frames=%(frames)d failures=%(failures)d crc_errors=%(crc_errors)d "
            "malformed=%(malformed)d gaps=%(gaps)d lost=%(lost)d dropped=%(dropped)d "
            "restarts=%(restarts)d reboots=%(reboots)d" % counts
        )

    def _time(self) -> float:
        return time.time() if self.host_time is None else self.host_time

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def summary_counts(stats: dict, table: Tally | None = None, mqtt: dict | None = None) -> dict:
    """The decoder's counters in the monitor's words: `reboots` (boot frames, and stream starts
    without one) for the board, `restarts` for actors (supervision decisions in `table`), and
    the MQTT counts under "mqtt" when there are some."""
    out = {k: v for k, v in stats.items() if k not in ("stream_starts", "boots")}
    out["reboots"] = stats.get("boots", 0) + stats.get("stream_starts", 0)
    out["restarts"] = table.total("restarts") if table is not None else 0
    if mqtt is not None:
        out["mqtt"] = mqtt
    return out


def _isatty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False
