#!/usr/bin/env bash
# Formats the Swift code with the toolchain's swift-format and the top-level .swift-format.
#
#   scripts/format.sh           # reformat Sources, Tests, Fuzz and Benchmarks in place
#   scripts/format.sh --check   # change nothing; exit non-zero on any finding (lint --strict)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi

mode=format
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: scripts/format.sh [--check]" >&2; exit 2 ;;
esac

paths=()
for dir in Sources Tests Fuzz Benchmarks; do
  [ -d "$dir" ] && paths+=("$dir")
done

if [ "$mode" = check ]; then
  swift format lint --strict --parallel --recursive --configuration .swift-format "${paths[@]}"
  echo "swift-format: no findings in ${paths[*]}"
else
  swift format format --in-place --parallel --recursive --configuration .swift-format "${paths[@]}"
fi
