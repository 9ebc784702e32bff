#!/usr/bin/env python3
"""Count meson test results from testlog.json files and print 'N passed, N failed'.

Usage: summary.py [--slowest N] TESTLOG.json...   (--slowest: first the N slowest tests)
Exit status 1 when anything failed or when no test ran at all."""
import json
import os
import sys

PASSED = {"OK", "EXPECTEDFAIL"}
SKIPPED = {"SKIP"}

args = sys.argv[1:]
slowest = 0
if args[:1] == ["--slowest"]:
    slowest = int(args[1])
    args = args[2:]
passed = failed = skipped = 0
durations = []  # (seconds, "build: name")
for path in args:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                test = json.loads(line)
                result = test.get("result", "")
                build = os.path.basename(os.path.dirname(os.path.dirname(path)))
                durations.append((test.get("duration", 0.0), f"{build}: {test.get('name', '?')}"))
                if result in PASSED:
                    passed += 1
                elif result in SKIPPED:
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        print(f"summary: {path} is missing (that build's tests did not run)", file=sys.stderr)
        failed += 1

if slowest and durations:
    print(f"slowest {min(slowest, len(durations))} tests:")
    for seconds, name in sorted(durations, reverse=True)[:slowest]:
        print(f"  {seconds:7.1f} s  {name}")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
