"""cellex benchmarks: run cellex_tools/bench_cellex.py under MicroPython and CPython, print the tables.

    python -m cellex_tools.bench [--quick] [--json] [--interp cpython,micropython] [--group G ...]

Each interpreter runs the benchmark body in its own process (the MicroPython
unix port: $MICROPYTHON, .venv/bin/micropython, or beside this Python). One table per
interpreter: every figure is the median of repeated runs, every ratio is made
of figures measured side by side in the same process, and the targets of
issues 6 and 11 (set for the MicroPython unix port) are marked met / missed. --json
prints one JSON object instead (machine, interpreters, raw figures, ratios,
verdicts) for comparing commits. Not a timed test: the exit status is 0
whenever every interpreter ran.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from cellex_tools import resources

BODY = Path(__file__).resolve().parent / "bench_cellex.py"
INTERPRETERS = ("micropython", "cpython")

# UART line: 10 bits per byte (start, 8 data, stop).
BAUDS = (115200, 921600)
BITS_PER_BYTE = 10

# A row: (section, label, how to get the value from results r, unit, target)
# target: None, or (op, limit, applies to) with op "<=" / ">=" / "==".


def _ratio(a, b):
    def f(r):
        if r.get(a) is None or not r.get(b):
            return None
        return r[a] / r[b]

    return f


def _key(k):
    return lambda r: r.get(k)


def _wire_fraction(r):
    # Encoder time per typical frame as a fraction of the frame's time on the wire at 921600 baud.
    n, t = r.get("uart_frame_typical"), r.get("uart_encode_typical")
    if not n or t is None:
        return None
    return t / (n * BITS_PER_BYTE * 1e9 / 921600)


def _fps(baud, key):
    def f(r):
        n = r.get(key)
        return baud / BITS_PER_BYTE / n if n else None

    return f


ROWS = [
    ("1 dispatch", "bare method call (the limit)", _key("bare_call"), "ns", None),
    ("1 dispatch", "tell x8 + run_until_idle, per message", _key("dispatch_8"), "ns", None),
    ("1 dispatch", "tell + run_until_idle, one message", _key("dispatch_1"), "ns", None),
    ("1 dispatch", "asyncio actor, 8 messages per wake-up, per message", _key("asyncio_8"), "ns", None),
    ("1 dispatch", "asyncio actor, one message per wake-up", _key("asyncio_1"), "ns", None),
    ("1 dispatch", "dispatch / bare call (x8)", _ratio("dispatch_8", "bare_call"), "x", ("<=", 3)),
    ("1 dispatch", "dispatch / bare call (one)", _ratio("dispatch_1", "bare_call"), "x", ("<=", 6)),
    ("1 dispatch", "asyncio / dispatch (x8)", _ratio("asyncio_8", "dispatch_8"), "x", (">=", 2)),
    ("1 dispatch", "asyncio / dispatch (one)", _ratio("asyncio_1", "dispatch_1"), "x", (">=", 2)),
    ("1 dispatch", "pipeline of 3 actors, per message posted", _key("pipeline"), "ns", None),
    ("1 dispatch", "asyncio pipeline of 3 tasks, per message", _key("asyncio_pipeline"), "ns", None),
    ("1 dispatch", "hand-written ring (bytecode): x8 / one / pipeline",
     lambda r: _triple(r, "ring"), "ns", None),
    ("1 dispatch", "hand-written ring (native): x8 / one / pipeline",
     lambda r: _triple(r, "ring_native"), "ns", None),
    ("1 dispatch", "asyncio / dispatch (pipeline)", _ratio("asyncio_pipeline", "pipeline"), "x", (">=", 2)),
    ("1 dispatch", "dispatch / native ring (x8)", _ratio("dispatch_8", "ring_native_8"), "x", ("<=", 1.2)),
    ("1 dispatch", "dispatch / native ring (one)", _ratio("dispatch_1", "ring_native_1"), "x", ("<=", 1.2)),
    ("1 dispatch", "dispatch / native ring (pipeline)", _ratio("pipeline", "ring_native_pipeline"), "x",
     ("<=", 1.2)),
    ("1b populated heap", "heap in use before the run", _key("heap_ballast_bytes"), "B", None),
    ("1b populated heap", "bare method call", _key("bare_call_heap"), "ns", None),
    ("1b populated heap", "tell x8 + run_until_idle, per message", _key("dispatch_8_heap"), "ns", None),
    ("1b populated heap", "tell + run_until_idle, one message", _key("dispatch_1_heap"), "ns", None),
    ("1b populated heap", "pipeline of 3 actors, per message", _key("pipeline_heap"), "ns", None),
    ("1b populated heap", "native ring: x8 / one / pipeline", lambda r: _triple(r, "ring_native", "_heap"),
     "ns", None),
    ("1b populated heap", "dispatch / bare call (x8)", _ratio("dispatch_8_heap", "bare_call_heap"), "x",
     ("<=", 3)),
    ("1b populated heap", "dispatch / bare call (one)", _ratio("dispatch_1_heap", "bare_call_heap"), "x",
     ("<=", 6)),
    ("1c gross", "tell", _key("gross_tell"), "B", ("==", 0)),
    ("1c gross", "tell + run_until_idle, one message", _key("gross_dispatch_1"), "B", ("==", 0)),
    ("1c gross", "tell x8 + run_until_idle", _key("gross_dispatch_8"), "B", ("==", 0)),
    ("1c gross", "pipeline of 3, one message", _key("gross_pipeline"), "B", ("==", 0)),
    ("1c gross", "restart in place, one failure", _key("gross_restart"), "B", ("==", 0)),
    ("1c gross", "to the root: Noop", _key("gross_root_noop"), "B", ("==", 0)),
    ("1c gross", "to the root: ring buffer", _key("gross_root_ring"), "B", ("==", 0)),
    ("1c gross", "to the root: UART", _key("gross_root_uart"), "B", ("==", 0)),
    ("2 failure", "floor: receive() raises, try/except + on_restart()", _key("restart_floor"), "ns", None),
    ("2 failure", "bare raise/catch, same OSError instance", _key("raise_same"), "ns", None),
    ("2 failure", "bare raise/catch, fresh OSError", _key("raise_fresh"), "ns", None),
    ("2 failure", "restart in place, per failure (x8)", _key("failure_restart_8"), "ns", None),
    ("2 failure", "restart in place, one failure", _key("failure_restart_1"), "ns", None),
    ("2 failure", "to the root + snapshot: Noop", _key("failure_root_noop"), "ns", None),
    ("2 failure", "to the root + snapshot: ring buffer", _key("failure_root_ring"), "ns", None),
    ("2 failure", "to the root + snapshot: UART (in-memory writer)", _key("failure_root_uart"), "ns", None),
    ("2 failure", "restart (x8) / fresh raise", _ratio("failure_restart_8", "raise_fresh"), "x", ("<=", 4)),
    ("2 failure", "restart (one) / fresh raise", _ratio("failure_restart_1", "raise_fresh"), "x", None),
    ("2 failure", "restart (x8) / floor", _ratio("failure_restart_8", "restart_floor"), "x", ("<=", 3)),
    ("2 failure", "root Noop / fresh raise", _ratio("failure_root_noop", "raise_fresh"), "x", ("<=", 8)),
    ("2 failure", "root Noop / same-instance raise", _ratio("failure_root_noop", "raise_same"), "x", None),
    ("3 telemetry", "Noop: direct on_failure", _key("telemetry_direct_noop"), "ns", None),
    ("3 telemetry", "Noop: through the root (_dispatch)", _key("telemetry_system_noop"), "ns", None),
    ("3 telemetry", "ring: direct on_failure", _key("telemetry_direct_ring"), "ns", None),
    ("3 telemetry", "ring: through the root (_dispatch)", _key("telemetry_system_ring"), "ns", None),
    ("3 telemetry", "UART: direct on_failure", _key("telemetry_direct_uart"), "ns", None),
    ("3 telemetry", "UART: through the root (_dispatch)", _key("telemetry_system_uart"), "ns", None),
    ("3 telemetry", "system / direct: Noop", _ratio("telemetry_system_noop", "telemetry_direct_noop"), "x",
     ("<=", 1.5)),
    ("3 telemetry", "system / direct: ring", _ratio("telemetry_system_ring", "telemetry_direct_ring"), "x",
     ("<=", 1.5)),
    ("3 telemetry", "system / direct: UART", _ratio("telemetry_system_uart", "telemetry_direct_uart"), "x",
     ("<=", 1.5)),
    ("4 observation", "root failure (Noop), observation off", _key("observation_off"), "ns", None),
    ("4 observation", "metrics on", _key("observation_metrics"), "ns", None),
    ("4 observation", "metrics on + capture_timing", _key("observation_timing"), "ns", None),
    ("4 observation", "metrics / off", _ratio("observation_metrics", "observation_off"), "x", None),
    ("4 observation", "timing / off", _ratio("observation_timing", "observation_off"), "x", ("<=", 1.3)),
    ("5 memory", "heap per actor (mailbox slots excluded)", _key("mem_per_actor"), "B", ("<=", 400)),
    ("5 memory", "heap per mailbox slot", _key("mem_per_mailbox_slot"), "B", None),
    ("5 memory", "heap per snapshot slot", _key("mem_per_snapshot_slot"), "B", None),
    ("5 memory", "demo system (6 actors, 8-slot mailboxes, 2 snapshots, ring 8)",
     _key("mem_demo_system"), "B", None),
    ("5 memory", "steady state: 8000 messages", _key("alloc_steady_messages"), "B", ("==", 0)),
    ("5 memory", "steady state: 1000 root failures, ring (raise included)", _key("alloc_steady_failures"),
     "B", ("==", 0)),
    ("5 memory", "steady state: 1000 root failures, UART", _key("alloc_steady_failures_uart"), "B",
     ("==", 0)),
    ("5 memory", "heap locked: messages / failures ring / UART run",
     lambda r: _locked(r), "", None),
    ("6 UART", "typical failure frame (/user/sensors/imu, 2 tags, 12-byte reason)",
     _key("uart_frame_typical"), "B", ("<=", 64)),
    ("6 UART", "worst-case failure frame", _key("uart_frame_worst"), "B", None),
    ("6 UART", "typical failures/s at 115200 baud", _fps(115200, "uart_frame_typical"), "/s", None),
    ("6 UART", "typical failures/s at 921600 baud", _fps(921600, "uart_frame_typical"), "/s", None),
    ("6 UART", "worst-case failures/s at 115200 baud", _fps(115200, "uart_frame_worst"), "/s", None),
    ("6 UART", "worst-case failures/s at 921600 baud", _fps(921600, "uart_frame_worst"), "/s", None),
    ("6 UART", "encode + write, typical frame", _key("uart_encode_typical"), "ns", None),
    ("6 UART", "encode + write, worst-case frame", _key("uart_encode_worst"), "ns", None),
    ("6 UART", "encode / wire time, typical @ 921600", _wire_fraction, "%", ("<=", 0.10)),
    ("7 timers", "tell + run, one message: 0 timers armed", _key("turn_timers_0"), "ns", None),
    ("7 timers", "... 1 timer armed (not due)", _key("turn_timers_1"), "ns", None),
    ("7 timers", "... 8 timers armed", _key("turn_timers_8"), "ns", None),
    ("7 timers", "... 32 timers armed", _key("turn_timers_32"), "ns", None),
    ("7 timers", "... 64 actors (32 on a board), 8 timers armed", _key("turn_actors_64_timers_8"), "ns",
     None),
    ("7 timers", "turn: 32 timers / 1 timer", _ratio("turn_timers_32", "turn_timers_1"), "x", ("<=", 1.1)),
    ("7 timers", "turn: 64 (board: 32) actors / 4 actors (8 timers)",
     _ratio("turn_actors_64_timers_8", "turn_timers_8"),
     "x", ("<=", 1.1)),
    ("7 timers", "timer fire + its dispatch, per fire (4 actors)", _key("timer_fire_4"), "ns", None),
    ("7 timers", "timer fire + its dispatch (64 actors, board: 32)", _key("timer_fire_64_timers_8"), "ns",
     None),
    ("7 timers", "tell + run, same stepped (Python) clock, 1 timer armed", _key("turn_manual_clock"), "ns",
     None),
    ("7 timers", "timer fire cost over that tell (4 actors)",
     lambda r: _diff(r, "timer_fire_4", "turn_manual_clock"), "ns", None),
    ("7 timers", "post() + run: post -> drain -> receive", _key("post_1"), "ns", None),
    ("7 timers", "post cost over a tell", lambda r: _diff(r, "post_1", "turn_timers_0"), "ns", None),
    ("7 timers", "hard IRQ post -> receive(), loop asleep: mean / max (boards)",
     lambda r: None if r.get("irq_to_receive_mean") is None else (r["irq_to_receive_mean"],
                                                                   r["irq_to_receive_max"]), "ns", None),
    ("7 timers", "idle share with a 10 ms hard IRQ (boards)", _key("irq_idle_share"), "%", None),
    ("8 protocols", "request/reply as two tells + run, per round trip", _key("rr_tells"), "ns", None),
    ("8 protocols", "ask + reply + run, per round trip", _key("rr_ask"), "ns", None),
    ("8 protocols", "ask / two tells", _ratio("rr_ask", "rr_tells"), "x", ("<=", 2)),
    ("8 protocols", "ask that times out: ask, run, deadline, run", _key("rr_timeout"), "ns", None),
    ("8 protocols", "asyncio request + wait_for(reply), per round trip", _key("rr_asyncio"), "ns", None),
    ("8 protocols", "asyncio / ask", _ratio("rr_asyncio", "rr_ask"), "x", (">=", 2)),
    ("8 protocols", "publish + run: 1 / 4 / 8 subscribers",
     lambda r: _tuple(r, "publish_1", "publish_4", "publish_8"), "ns", None),
    ("8 protocols", "8 tells by hand + run (publish's floor)", _key("tells_8"), "ns", None),
    ("8 protocols", "publish to 8 / 8 tells by hand", _ratio("publish_8", "tells_8"), "x", ("<=", 1.3)),
    ("8 protocols", "dead letter (full mailbox): counted / watched by a hook",
     lambda r: _tuple(r, "dead_letter", "dead_letter_watched"), "ns", None),
    ("8 protocols", "gross: ask + reply", _key("gross_ask"), "B", ("==", 0)),
    ("8 protocols", "gross: ask timing out", _key("gross_ask_timeout"), "B", ("==", 0)),
    ("8 protocols", "gross: publish to 8", _key("gross_publish_8"), "B", ("==", 0)),
    ("8 protocols", "gross: dead letter, watched", _key("gross_dead_letter"), "B", ("==", 0)),
    ("8 protocols", "gross: defer x2 + recall_all", _key("gross_stash"), "B", ("==", 0)),
    ("trap", "re-raised preallocated user-class: first / last quarter",
     lambda r: _pair(r, "trap_user_preallocated"), "ns", None),
    ("trap", "re-raised preallocated user-class: heap per raise",
     _key("trap_user_preallocated_bytes_per_raise"), "B", None),
    ("trap", "re-raised preallocated OSError: first / last quarter",
     lambda r: _pair(r, "trap_builtin_preallocated"), "ns", None),
    ("trap", "re-raised preallocated OSError: heap per raise",
     _key("trap_builtin_preallocated_bytes_per_raise"), "B", None),
    ("trap", "fresh user-class exception: first / last quarter",
     lambda r: _pair(r, "trap_fresh"), "ns", None),
    ("trap", "fresh user-class exception: heap per raise (after gc)", _key("trap_fresh_bytes_per_raise"),
     "B", None),
]


def _diff(r, a, b):
    if r.get(a) is None or r.get(b) is None:
        return None
    return r[a] - r[b]


def _triple(r, k, suffix=""):
    v = tuple(r.get(k + s + suffix) for s in ("_8", "_1", "_pipeline"))
    return None if v[0] is None else v


def _tuple(r, *keys):
    v = tuple(r.get(k) for k in keys)
    return None if v[0] is None else v


def _pair(r, k):
    a, b = r.get(k + "_first_ns"), r.get(k + "_last_ns")
    return None if a is None else (a, b)


def _locked(r):
    vals = (r.get("heap_locked_messages"), r.get("heap_locked_failures"), r.get("heap_locked_failures_uart"))
    if all(v is None for v in vals):
        return None
    return " / ".join("ok" if v else ("-" if v is None else "ALLOCATED") for v in vals)


def _fmt(v, unit):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, tuple):
        return " / ".join(_fmt(x, unit) for x in v)
    if unit == "%":
        return "%.1f %%" % (v * 100)
    if unit == "x":
        return "%.2fx" % v
    if unit == "/s":
        return "%d /s" % v
    if unit == "ns":
        return "%.0f ns" % v if v < 10000 else "%.1f us" % (v / 1000)
    if unit == "B":
        return "%g B" % v
    return str(v)


def _verdict(v, target):
    if target is None or v is None or isinstance(v, (str, tuple)):
        return ""
    op, limit = target
    ok = {"<=": v <= limit, ">=": v >= limit, "==": v == limit}[op]
    return "met" if ok else "MISSED"


def _target_text(target, unit):
    if target is None:
        return ""
    op, limit = target
    return op + " " + _fmt(limit, unit)


def evaluate(results, interp):
    """Rows with values and verdicts. Targets are judged on MicroPython only."""
    out = []
    for section, label, get, unit, target in ROWS:
        v = get(results)
        if interp != "micropython" and unit == "B" and section == "5 memory":
            judged = None  # tracemalloc bytes of CPython objects: not comparable
        else:
            judged = target if interp == "micropython" else None
        out.append(
            {
                "section": section,
                "label": label,
                "value": v,
                "unit": unit,
                "text": _fmt(v, unit),
                "target": _target_text(target, unit),
                "verdict": _verdict(v, judged) if judged else "",
            }
        )
    return out


def machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
    }


GROUPS = (
    "dispatch", "dispatch_heap", "gross", "failure", "telemetry", "uart", "trap", "memory", "timers", "irq",
    "protocols",
)


def run_body(interp, quick, firmware=None, groups=GROUPS):
    """Run each group of bench_cellex.py in its own `interp` process; return the merged results."""
    results = {}
    for group in groups:
        results.update(run_group(interp, quick, group, firmware))
    return results


def run_group(interp, quick, group, firmware=None):
    env = dict(os.environ)
    package = str(firmware or resources.runtime_dir())
    if interp == "micropython":
        cmd = [resources.micropython()]
        env["MICROPYPATH"] = package + ":.frozen"
    else:
        cmd = [sys.executable]
        env["PYTHONPATH"] = package
    cmd += [str(BODY), group] + (["quick"] if quick else [])
    cwd = resources.CHECKOUT if resources.in_checkout() else None
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(
            "%s bench %s failed (exit %d):\n%s%s" % (interp, group, proc.returncode, proc.stdout, proc.stderr)
        )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)["results"]


def print_table(interp, results, rows, out=sys.stdout):
    title = "%s  (%s)" % (interp, results.get("version", "?"))
    print(title, file=out)
    if interp != "micropython":
        print("targets are set for the MicroPython unix port: shown, not judged here", file=out)
    head = ("", "figure", "value", "target", "")
    w = [13, max(len(r["label"]) for r in rows), max(12, max(len(r["text"]) for r in rows)), 9, 6]
    fmt = "%-*s  %-*s  %*s  %-*s  %-*s"
    line = fmt % (w[0], head[0], w[1], head[1], w[2], head[2], w[3], head[3], w[4], head[4])
    print(line.rstrip(), file=out)
    print("-" * len(line), file=out)
    section = None
    for r in rows:
        s = r["section"] if r["section"] != section else ""
        section = r["section"]
        cells = (w[0], s, w[1], r["label"], w[2], r["text"], w[3], r["target"], w[4], r["verdict"])
        print((fmt % cells).rstrip(), file=out)
    notes = []
    if "asyncio_kind" in results:
        notes.append("asyncio actor: " + results["asyncio_kind"])
    notes.append("memory: " + results.get("memory_method", "?"))
    print("(" + "; ".join(notes) + ")", file=out)
    print(file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="cellex bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs (CI)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("--interp", default=",".join(INTERPRETERS), help="comma-separated: micropython,cpython")
    ap.add_argument(
        "--firmware",
        default=None,
        help="folder holding the cellex package to measure (default: firmware/ in a checkout, "
        "the installed package otherwise; e.g. an older "
        "commit's, from `git archive`, for a before/after table)",
    )
    ap.add_argument("--group", action="append", choices=GROUPS, help="only this group (repeatable)")
    args = ap.parse_args(argv)
    chosen = [x.strip() for x in args.interp.split(",") if x.strip()]
    bad = sorted(set(chosen) - set(INTERPRETERS))
    if bad:
        ap.error("unknown interpreter(s) %s; choose from %s" % (", ".join(bad), ", ".join(INTERPRETERS)))
    if "micropython" in chosen:
        try:
            resources.micropython()
        except resources.MissingTool as e:
            print("bench: %s" % e, file=sys.stderr)
            return 2
    report = {"machine": machine(), "quick": args.quick, "interpreters": {}}
    for interp in chosen:
        results = run_body(interp, args.quick, args.firmware, args.group or GROUPS)
        rows = evaluate(results, interp)
        report["interpreters"][interp] = {"results": results, "rows": rows}
    if args.json:
        print(json.dumps(report, indent=1, sort_keys=True))
        return 0
    m = report["machine"]
    mode = " (quick)" if args.quick else ""
    print("cellex benchmarks%s on %s (%s cores), %s" % (mode, m["cpu"], m["cores"], m["os"]))
    print("ns per operation, median of repeated runs; ratios from figures measured side by side\n")
    for interp in chosen:
        data = report["interpreters"][interp]
        print_table(interp, data["results"], data["rows"])
    verdicts = [
        (interp, r["label"], r["text"], r["target"])
        for interp in chosen
        for r in report["interpreters"][interp]["rows"]
        if r["verdict"] == "MISSED"
    ]
    judged = sum(1 for i in chosen for r in report["interpreters"][i]["rows"] if r["verdict"])
    print("targets (MicroPython unix port): %d judged, %d missed" % (judged, len(verdicts)))
    for _interp, label, text, target in verdicts:
        print("  missed: %s  %s  (target %s)" % (label, text, target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
