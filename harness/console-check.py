#!/usr/bin/env python3
"""Fail if a guest console log holds a kernel report.

Usage: console-check.py CONSOLE_LOG

Exit 0 when the log is clean, 1 otherwise; the offending lines (with a
few lines of context each) go to stdout.
"""
import re
import sys

# One entry per kind of report; the first match of each report is shown.
REPORTS = [
    ("oops", r"\bOops\b|general protection fault|Unable to handle kernel|BUG: unable to handle"),
    ("BUG", r"\bBUG: |kernel BUG at|BUG kmalloc|BUG \w+ \(.*\): "),
    ("WARNING", r"WARNING: |------------\[ cut here \]------------"),
    ("KASAN", r"KASAN: |BUG: KASAN"),
    ("lockdep", r"possible circular locking dependency|possible recursive locking"
                r"|inconsistent lock state|suspicious RCU usage|lockdep: |INFO: lockdep"
                r"|held lock freed|bad unlock balance|DEBUG_LOCKS_WARN_ON"),
    ("atomic sleep", r"sleeping function called from invalid context|scheduling while atomic"),
    ("RCU stall", r"rcu: INFO: .*detected stall|rcu_.*self-detected stall|detected stalls on CPUs"),
    ("hung task", r"INFO: task .* blocked for more than|hung_task"),
    ("soft lockup", r"soft lockup|hard LOCKUP"),
    ("kmemleak", r"kmemleak: .*new suspected memory leak|^unreferenced object 0x"),
    ("panic", r"Kernel panic"),
    ("UBSAN", r"UBSAN: "),
    ("list corruption", r"list_(add|del) corruption"),
    ("call trace", r"^ *Call Trace:"),
]

TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")


def main():
    lines = open(sys.argv[1], errors="replace").read().splitlines()
    found = []
    seen_at = set()
    for i, raw in enumerate(lines):
        line = TIMESTAMP.sub("", raw)
        for kind, pat in REPORTS:
            if re.search(pat, line):
                if any(abs(i - j) < 40 for j in seen_at):
                    break
                seen_at.add(i)
                found.append((kind, i))
                break
    if not found:
        return 0
    print("console: %d kernel report(s):" % len(found))
    for kind, i in found:
        print("console: %s at line %d:" % (kind, i + 1))
        for ctx in lines[i:i + 12]:
            print("  | " + ctx)
    return 1


if __name__ == "__main__":
    sys.exit(main())
