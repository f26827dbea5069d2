#!/usr/bin/env python3
"""Runs clang-tidy (the tree's .clang-tidy) on zbl's own non-test sources and fails on new warnings.

usage: ci/clang-tidy.py BUILD_DIR [--update] [--jobs N]

Warnings are counted per (file, check) and compared with ci/clang-tidy-baseline.txt: a count
above the baseline is a new warning and fails (exit 1, listing them); a count below it is
reported so the baseline can be lowered with --update. Exits 77 (skip) when clang-tidy or the
build's compile_commands.json is missing. Files run in parallel (one clang-tidy per core).
"""
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(SRC, "ci", "clang-tidy-baseline.txt")
WARNING = re.compile(r"^(/[^:]+):(\d+):(\d+): warning: .* \[([\w.,-]+)\]$")


def own_sources(build):
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    files = set()
    for e in entries:
        path = os.path.realpath(os.path.join(e["directory"], e["file"]))
        rel = os.path.relpath(path, SRC)
        if rel.startswith("..") or rel.startswith("build") or rel.startswith("fuzz"):
            continue
        if rel.endswith("_test.cc") or "/test/" in rel or "/tests/" in rel:
            continue
        files.add(path)
    return sorted(files)


def tidy(tool, build, path):
    r = subprocess.run([tool, "-p", build, "--quiet", path], capture_output=True, text=True)
    found = set()
    for line in r.stdout.splitlines():
        m = WARNING.match(line)
        if not m:
            continue
        rel = os.path.relpath(os.path.realpath(m.group(1)), SRC)
        if rel.startswith(".."):
            continue
        for check in m.group(4).split(","):
            found.add((rel, int(m.group(2)), int(m.group(3)), check))
    return found


def load_baseline():
    counts = {}
    if os.path.exists(BASELINE):
        with open(BASELINE) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    n, rel, check = line.split()
                    counts[(rel, check)] = int(n)
    return counts


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    build = os.path.abspath(args[0])
    update = "--update" in args
    jobs = os.cpu_count() or 2
    if "--jobs" in args:
        jobs = int(args[args.index("--jobs") + 1])
    tool = shutil.which("clang-tidy-14") or shutil.which("clang-tidy")
    if not tool:
        print("SKIP: clang-tidy is not installed (apt-get install clang-tidy-14)")
        return 77
    if not os.path.exists(os.path.join(build, "compile_commands.json")):
        print(f"SKIP: {build}/compile_commands.json is missing (configure with CMake first)")
        return 77
    files = own_sources(build)
    warnings = set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for found in pool.map(lambda p: tidy(tool, build, p), files):
            warnings |= found
    counts = collections.Counter((rel, check) for rel, _, _, check in warnings)
    print(f"clang-tidy ({tool}) on {len(files)} files: {sum(counts.values())} warnings")
    if update:
        with open(BASELINE, "w") as f:
            f.write("# count file check: warnings clang-tidy finds today (ci/clang-tidy.py "
                    "BUILD --update).\n# A count may only go down; new warnings fail the test.\n")
            for (rel, check), n in sorted(counts.items()):
                f.write(f"{n} {rel} {check}\n")
        print(f"baseline written: {BASELINE}")
        return 0
    base = load_baseline()
    new = [(k, n, base.get(k, 0)) for k, n in sorted(counts.items()) if n > base.get(k, 0)]
    fewer = [(k, n, b) for k, b in sorted(base.items()) if counts.get(k, 0) < b]
    for (rel, check), n, b in fewer:
        print(f"fewer: {rel} {check}: {n} (baseline {b}); lower it with --update")
    if new:
        for (rel, check), n, b in new:
            print(f"NEW: {rel} {check}: {n} warnings (baseline {b})")
            for w in sorted(w for w in warnings if w[0] == rel and w[3] == check):
                print(f"  {w[0]}:{w[1]}:{w[2]}")
        return 1
    print("no new warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
