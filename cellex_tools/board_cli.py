"""What the virtual and the emulated board's command lines share: start, announce, serve until a signal."""

import signal
import sys
import threading
from pathlib import Path


def serve(board, name, errors, info_path, describe, alive=None):
    """Start `board`, print its devices, run until SIGINT/SIGTERM (or until alive() is false).

    errors:    the exception class start() raises when the board cannot come up
    info_path: also write the device paths there as KEY=VALUE lines (removed at exit)
    describe:  () -> (banner line, [(KEY, path, note)]) once the board is up
    Returns the process exit status."""
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        board.start()
    except errors as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        return 1
    try:
        banner, devices = describe()
        if info_path:
            Path(info_path).write_text("".join("%s=%s\n" % (key, path) for key, path, _ in devices))
        print(banner)
        for key, path, note in devices:
            print(("  %-11s %s    %s" % (key.lower() + ":", path, note)).rstrip())
        print("Ctrl-C to stop.", flush=True)
        while not stop.wait(1.0):
            if alive is not None and not alive():
                return 1
    finally:
        board.stop()
        if info_path:
            Path(info_path).unlink(missing_ok=True)
    print("%s stopped (%d resets)" % (name, board.resets))
    return 0
