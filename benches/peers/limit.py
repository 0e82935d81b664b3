"""Runs one command under a wall timeout and an address-space limit, and reports its wall seconds,
exit status and peak RSS as JSON (used by peers.py for every system).

    python limit.py --timeout 600 --mem-bytes 17179869184 --result r.json -- CMD ARGS...

Why a separate process: the peak RSS comes from wait4's ru_maxrss, which also counts the memory of
the forked parent before exec. peers.py holds the kNN graph of the current size, so a command forked
from it directly would be charged for it; forked from this small launcher, the floor is this
interpreter's ~10 MiB. RLIMIT_AS is set in the child before exec; on timeout the child's whole
process group is killed.
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--timeout", type=float, required=True)
    p.add_argument("--mem-bytes", type=int, required=True)
    p.add_argument("--result", required=True)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

    def limit():
        if a.mem_bytes > 0:
            resource.setrlimit(resource.RLIMIT_AS, (a.mem_bytes, a.mem_bytes))

    timed_out = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, preexec_fn=limit, start_new_session=True)

    def kill():
        timed_out.set()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(a.timeout, kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    timer.cancel()
    with open(a.result, "w") as fh:
        json.dump({
            "wall": wall,
            "exit": os.waitstatus_to_exitcode(status),
            "timed_out": timed_out.is_set(),
            "peak_mb": usage.ru_maxrss / 1024.0,  # KiB on Linux
        }, fh)


if __name__ == "__main__":
    sys.exit(main())
