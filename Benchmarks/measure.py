#!/usr/bin/env python3
"""Run a command N times; print the median wall seconds and the largest child max RSS (MB).

usage: measure.py N -- command args...   (stdout/stderr of the command are discarded)
"""
import resource
import statistics
import subprocess
import sys
import time

n = int(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1:]
walls = []
for _ in range(n):
    start = time.perf_counter()
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    walls.append(time.perf_counter() - start)
    if result.returncode != 0:
        sys.stderr.write(result.stderr.decode(errors="replace"))
        sys.exit(f"measure.py: {cmd} exited {result.returncode}")
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{statistics.median(walls):.3f} {rss_mb:.0f}")
