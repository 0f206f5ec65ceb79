#!/usr/bin/env python3
"""Turn one test boot into one line per test and the closing count.

Usage: results.py OUT_LOG CONSOLE_LOG [GUEST_RC]

OUT_LOG holds the kselftests' TAP between the CR-TEST-BEGIN/END markers
of cr-run-tests; CONSOLE_LOG holds the kernel's KTAP from the built-in
KUnit suites.  Prints "PASS|FAIL|SKIP name [reason]" per test and ends
with "N passed, N failed, N skipped".  Exit status 1 if any test failed.
"""
import re
import sys

TAP = re.compile(r"^(not ok|ok) +\d+ +(.*?)(?: +# +(SKIP|XFAIL|TODO)\b ?(.*))?$")
TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
results = []


def add(status, name, why=""):
    results.append((status, name, why))


def kselftests(lines):
    cur, planned, seen, failed, text = None, None, 0, False, []
    for line in lines:
        m = re.match(r"^CR-TEST-BEGIN (\S+)", line)
        if m:
            cur, planned, seen, failed, text = m.group(1), None, 0, False, []
            continue
        m = re.match(r"^CR-TEST-END (\S+) rc=(\d+)", line)
        if m and cur:
            rc = int(m.group(2))
            if rc == 124:
                add("FAIL", cur, "hung: killed by the per-test timeout")
            elif planned is not None and seen < planned:
                add("FAIL", cur, "exit status %d after %d of %d tests" % (rc, seen, planned))
            elif rc != 0 and not failed:
                add("FAIL", cur, "exit status %d" % rc)
            elif seen == 0 and rc == 0:
                add("PASS", cur)
            cur = None
            continue
        if cur is None:
            continue
        m = re.match(r"^1\.\.(\d+)", line)
        if m:
            planned = int(m.group(1))
            continue
        m = TAP.match(line)
        if m:
            seen += 1
            name = "%s:%s" % (cur, m.group(2))
            if m.group(3) == "SKIP":
                add("SKIP", name, m.group(4) or "")
            elif m.group(1) == "ok" or m.group(3) == "XFAIL":
                add("PASS", name)
            else:
                failed = True
                add("FAIL", name)
    if cur is not None:
        add("FAIL", cur, "the guest stopped during this test")


def kunit(lines):
    suite = None
    for raw in lines:
        line = TIMESTAMP.sub("", raw)
        m = re.match(r"^    # Subtest: (\S+)", line)
        if m:
            suite = m.group(1)
            continue
        m = re.match(r"^    (not ok|ok) +\d+ +(\S+)(?: +# +(SKIP)\b ?(.*))?", line)
        if m and suite:
            name = "kunit:%s.%s" % (suite, m.group(2))
            if m.group(3):
                add("SKIP", name, m.group(4) or "")
            else:
                add("PASS" if m.group(1) == "ok" else "FAIL", name)
            continue
        m = re.match(r"^(not ok|ok) +\d+ +(\S+)", line)
        if m and suite == m.group(2):
            suite = None


def main():
    out = open(sys.argv[1], errors="replace").read().splitlines()
    console = open(sys.argv[2], errors="replace").read().splitlines()
    kunit(console)
    kselftests(out)
    for status, name, why in results:
        print("%-4s %s%s" % (status, name, (" (%s)" % why) if why else ""))
    n = {s: sum(1 for r in results if r[0] == s) for s in ("PASS", "FAIL", "SKIP")}
    print("%d passed, %d failed, %d skipped" % (n["PASS"], n["FAIL"], n["SKIP"]))
    return 1 if n["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
