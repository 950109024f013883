#!/usr/bin/env bash
# Regenerates docs/man/vrm.1 from the ArgumentParser definitions (swift-argument-parser's
# GenerateManual plugin, on a debug build), so the manual says what `vrm --help` says.
# Usage: scripts/man.sh        (run after changing any command's options or help text)
set -euo pipefail
cd "$(dirname "$0")/.."
date="$(git log -1 --format=%cs 2>/dev/null || date +%F)"
swift package plugin generate-manual --configuration debug --date "$date" --authors "VRM Vault developers" >/dev/null
mkdir -p docs/man
cp .build/plugins/GenerateManual/outputs/vrm/vrm.1 docs/man/vrm.1
echo "wrote docs/man/vrm.1 ($(wc -l < docs/man/vrm.1) lines)"
