"""The benchmark on a chip: cellex_tools/bench_cellex.py on a MicroPython board, one fresh VM per group.

    python -m cellex_tools.bench_chip [--board PORT | --board emulated] [--full] [--json] [--group G ...]
    make bench-chip

With `--board emulated` (the default) it starts the emulated Pico: RPI_PICO
firmware with cellex frozen in (`make firmware BOARD=RPI_PICO`) on an emulated
RP2040 at 125 MHz. Its clock is the simulated one: cycle-approximate, no flash
wait states (XIP cache misses on silicon make real code the same or slower).
A real board's port works the same way. Each group runs after a soft reset, as
cellex_tools/bench.py runs each in a fresh process; the short mode is the default
(the chip is ~160x slower than the unix port), --full runs the long one.
"""

import argparse
import json
import sys

from mpremote.transport import TransportError

from cellex_tools.bench import BODY, GROUPS, evaluate, print_table
from cellex_tools.board_session import BoardError, BoardSession

# The chip's own goals (issue 10), as (label, key, op, limit): per message ns -> msg/s.
CHIP_GOALS = (
    ("messages/s, batches of 8", "dispatch_8", ">=", 30000),
    ("messages/s, one per run", "dispatch_1", ">=", 10000),
    ("messages/s, pipeline of 3 actors", "pipeline", None, None),
)
ROOT_UART_GOAL_US = 1000
GROUP_TIMEOUT_S = 1800


def run_on_board(board, quick=True, groups=GROUPS):
    """Each benchmark group in a fresh VM on the board: (merged results, {group: error})."""
    board.transport.fs_writefile("bench_cellex.py", BODY.read_bytes())
    results = {}
    failed = {}
    for group in groups:
        board._enter_raw_repl()  # soft reset: a fresh VM, as a fresh process on the host
        args = [group, "quick"] if quick else [group]
        code = "exec(open('bench_cellex.py').read(), {'__name__': '__main__', 'BENCH_ARGS': %r})\n" % args
        try:
            out, err = board.transport.exec_raw(code, timeout=GROUP_TIMEOUT_S)
        except TransportError as e:
            raise BoardError("bench group %s did not finish on the board: %s" % (group, e)) from e
        if err:
            # One group that does not fit the board (e.g. out of heap) must not hide the others.
            failed[group] = err.decode(errors="replace").strip().splitlines()[-1]
            print("  %s FAILED: %s" % (group, failed[group]), file=sys.stderr, flush=True)
            continue
        line = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("{")][-1]
        results.update(json.loads(line)["results"])
        print("  %s done" % group, file=sys.stderr, flush=True)
    return results, failed


def chip_lines(r):
    """The chip's headline figures and its goals (issue 10)."""
    lines = []
    for label, key, op, limit in CHIP_GOALS:
        ns = r.get(key)
        if not ns:
            continue
        rate = 1e9 / ns
        verdict = "" if op is None else ("met" if rate >= limit else "MISSED")
        goal = "" if op is None else "%s %d" % (op, limit)
        lines.append("%-40s %10.0f  %-10s %s" % (label, rate, goal, verdict))
    uart = r.get("failure_root_uart")
    if uart:
        us = uart / 1000
        verdict = "met" if us <= ROOT_UART_GOAL_US else "MISSED"
        label = "root failure to UART frame"
        lines.append("%-40s %8.0f us  <= %d us   %s" % (label, us, ROOT_UART_GOAL_US, verdict))
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="cellex bench-chip", description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="emulated", help="a board's REPL port, or 'emulated' (default)")
    ap.add_argument("--full", action="store_true", help="the long runs (default: the short mode)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("--group", action="append", choices=GROUPS, help="only this group (repeatable)")
    args = ap.parse_args(argv)
    emulated = None
    port = args.board
    if port == "emulated":
        from cellex_tools.emulated_board import DEFAULT_FIRMWARE, EmulatedBoard

        if not DEFAULT_FIRMWARE.exists():
            print("bench-chip: no firmware at %s: run `make firmware BOARD=RPI_PICO`" % DEFAULT_FIRMWARE,
                  file=sys.stderr)
            return 2
        emulated = EmulatedBoard(DEFAULT_FIRMWARE)
        emulated.start()
        port = emulated.console_path
    board = BoardSession(port)
    try:
        board.connect()
        facts = board.read_facts()
        print("bench on %s: MicroPython %s, %s" % (port, facts.get("version"), facts.get("machine")),
              file=sys.stderr)
        results, failed = run_on_board(board, quick=not args.full, groups=args.group or GROUPS)
    except BoardError as e:
        print("bench-chip: %s" % e, file=sys.stderr)
        return 1
    finally:
        board.close()
        if emulated is not None:
            emulated.stop()
    rows = evaluate(results, "board")
    if args.json:
        print(json.dumps({"board": facts, "emulated": emulated is not None, "results": results, "rows": rows,
                          "failed": failed}, indent=1, sort_keys=True))
        return 1 if failed else 0
    where = "emulated RP2040 at 125 MHz (cycle-approximate, no flash wait states)" if emulated else port
    print("cellex benchmarks on %s, %s" % (where, facts.get("machine")))
    print("ns per operation, median of repeated runs\n")
    print_table("board", results, rows)
    print("the chip's goals")
    for line in chip_lines(results):
        print("  " + line)
    for group, error in sorted(failed.items()):
        print("group %s failed on the board: %s" % (group, error))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
