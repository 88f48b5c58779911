#!/usr/bin/env python3
"""bench/lib/measure.py: time one command and take its peak RSS.

  measure.py [--env K=V ...] COMMAND [ARG...]

Runs COMMAND with stdout and stderr to /dev/null (to LOG when
MEASURE_LOG=LOG is set) and prints "SECONDS MAXRSS_KB": the wall time
from the fork to the end of the wait, by perf_counter (python's own start
is not counted), and the peak resident set of the command (wait4's
ru_maxrss, which covers the command and the children it waited for). A
command that fails makes measure.py fail with its exit status, after
printing the last lines of its log to stderr.
"""
import os
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    env = dict(os.environ)
    while args and args[0] == "--env":
        k, v = args[1].split("=", 1)
        env[k] = v
        args = args[2:]
    log = os.environ.get("MEASURE_LOG")
    out = open(log, "ab") if log else subprocess.DEVNULL
    t = time.perf_counter()
    p = subprocess.Popen(args, stdout=out, stderr=out, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        if log:
            out.close()
            with open(log, "rb") as f:
                sys.stderr.write(f.read()[-2000:].decode(errors="replace"))
        sys.exit("measure: %s exited with %d" % (" ".join(args), code))
    print("%.4f %d" % (secs, ru.ru_maxrss))


if __name__ == "__main__":
    main()
