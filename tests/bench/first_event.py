#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""first_event.py - time to the first event of tracers, side by side.

usage: first_event.py RUNS NAME REGEX CMD [NAME REGEX CMD ...]

Runs each command RUNS times, interleaved (a, b, c, a, b, c, ...), and
measures from just before exec to the first stdout line matching REGEX (the
command prints it from its handler of the first event, then exits). A line
that also holds "main=<ms>" gives shark's own figure: ms from main() to the
handler. Stderr lines "shark: phase <ms> ms <what>" (SHARK_PHASES=1) are
collected too, and their medians printed per command. Prints medians, min
and max; timings are never asserted.
"""
import os
import re
import statistics
import subprocess
import sys
import time

PHASE = re.compile(r"^shark: phase +([0-9.]+) ms +(.*?)(: \d+ events)?$")


def one(cmd, regex):
    """Return (ms to the first matching line, main= ms or None, phases) or None."""
    t0 = time.monotonic_ns()
    p = subprocess.Popen(cmd, shell=True, executable="/bin/bash", stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    got, main = None, None
    for line in p.stdout:
        if re.search(regex, line):
            got = (time.monotonic_ns() - t0) / 1e6
            m = re.search(r"main=([0-9.]+)", line)
            main = float(m.group(1)) if m else None
            break
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    phases = []
    for line in err.splitlines():
        m = PHASE.match(line)
        if m:
            phases.append((m.group(2), float(m.group(1))))
    return None if got is None else (got, main, phases)


def spread(xs):
    return "%8.2f %8.2f %8.2f" % (statistics.median(xs), min(xs), max(xs))


def main():
    runs = int(sys.argv[1])
    specs = [sys.argv[i:i + 3] for i in range(2, len(sys.argv), 3)]
    res = {name: [] for name, _, _ in specs}
    for _ in range(runs):
        for name, regex, cmd in specs:
            r = one(cmd, regex)
            if r:
                res[name].append(r)
    print("%-34s %8s %8s %8s   %s" % ("ms to the first event", "median", "min", "max", "runs"))
    for name, _, _ in specs:
        rs = res[name]
        if not rs:
            print("%-34s %s" % (name, "no event (did not start here)"))
            continue
        mains = [r[1] for r in rs if r[1] is not None]
        if mains:
            print("%-34s %s   %d  (after main())" % (name, spread(mains), len(mains)))
            name = ""
        print("%-34s %s   %d  (exec to output)" % (name, spread([r[0] for r in rs]), len(rs)))
    for name, _, _ in specs:
        rs = [r for r in res[name] if r[2]]
        if not rs:
            continue
        print("%s: phases, ms after main() (medians of %d runs; SHARK_PHASES=1)" % (name, len(rs)))
        order, at = [], {}
        for r in rs:
            for what, ms in r[2]:
                if what not in at:
                    order.append(what)
                    at[what] = []
                at[what].append(ms)
        prev = 0.0
        for what in order:
            m = statistics.median(at[what])
            print("   %8.2f  +%5.2f  %s" % (m, m - prev, what))
            prev = m


if __name__ == "__main__":
    main()
