#!/usr/bin/env bash
# Soak: SOAK_SECONDS (default 600) of mixed load against one vault — redemptions (wrk), denied
# attempts, grants issued and revoked, profile changes that re-materialise shares, and audit
# reads — while the server's RSS is sampled every 10 s. Reports RSS growth and error counts.
# Release build; 127.0.0.1 only; stops by itself.
#
#   scripts/soak.sh                    # ten minutes
#   SOAK_SECONDS=60 scripts/soak.sh    # a short run
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS=${SOAK_SECONDS:-600}
if [ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
swift build -c release >&2
BIN=$(swift build -c release --show-bin-path)
VRM="$BIN/vrm"

work=$(mktemp -d "${TMPDIR:-/tmp}/vrm-soak-XXXXXX")
cleanup() { jobs -p | xargs -r kill 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
head -c 24 /dev/urandom | base64 > "$work/pw"
export VRM_PASSPHRASE_FILE="$work/pw" XDG_STATE_HOME="$work/state" VRM_VAULT="$work/share.db"
"$BIN/vrm-bench" share-vault "$work/share.db" "$work/pw" "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u VRM_PASSPHRASE_FILE "$VRM" serve --port "$port" --max-failures 1000000000 2> "$work/access.log" & server=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/livez" && break; sleep 0.1; done
end=$(( $(date +%s) + SOAK_SECONDS ))
: > "$work/cli-fail"

# Redemptions and denials: wrk in slices so the other loops interleave.
( while [ "$(date +%s)" -lt "$end" ]; do
    TOKEN=$(cat "$work/bearer.token") wrk -t1 -c16 -d5s -s Benchmarks/bearer.lua "http://127.0.0.1:$port/v1/share" >/dev/null 2>&1
    TOKEN=vrm_not-a-token wrk -t1 -c4 -d1s -s Benchmarks/bearer.lua "http://127.0.0.1:$port/v1/share" >/dev/null 2>&1
  done ) &
# Grants issued, redeemed once, revoked.
( n=0; while [ "$(date +%s)" -lt "$end" ]; do
    t=$("$VRM" grant create --vendor "Bench Bearer" --scope profile.email --purpose support --token-only 2>>"$work/cli-errors.log") || { echo grant >> "$work/cli-fail"; continue; }
    curl -s -o /dev/null -H "Authorization: Bearer $t" "http://127.0.0.1:$port/v1/share"
    id=$("$VRM" grant list --active --json | python3 -c 'import json,sys; g=[x for x in json.load(sys.stdin) if x["scopes"]==["profile.email"]]; print(g[0]["id"] if g else "")')
    [ -n "$id" ] && { "$VRM" grant revoke "$id" >/dev/null 2>>"$work/cli-errors.log" || echo revoke >> "$work/cli-fail"; }
    n=$((n + 1)); sleep 1
  done; echo "$n" > "$work/grant-cycles" ) &
# Re-materialisation and audit reads.
( n=0; while [ "$(date +%s)" -lt "$end" ]; do
    "$VRM" profile set address.shipping "$RANDOM Soak Street" >/dev/null 2>>"$work/cli-errors.log" || echo profile >> "$work/cli-fail"
    "$VRM" audit --since 1m >/dev/null 2>>"$work/cli-errors.log" || echo audit >> "$work/cli-fail"
    n=$((n + 1)); sleep 2
  done; echo "$n" > "$work/remat-cycles" ) &

samples=()
while [ "$(date +%s)" -lt "$end" ]; do
  samples+=("$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$server/status")")
  sleep 10
done
wait %2 %3 %4 2>/dev/null || true
sleep 1
kill -TERM "$server"; wait "$server" 2>/dev/null || true

requests=$(wc -l < "$work/access.log")
s5xx=$(grep -c '"status":5' "$work/access.log" || true)
s200=$(grep '"path":"/v1/share"' "$work/access.log" | grep -c '"status":200' || true)   # /livez probes excluded
redeemed=$("$VRM" audit --json | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["event"]=="share.redeemed"))')
verify=$("$VRM" audit verify >/dev/null 2>&1 && echo intact || echo BROKEN)
integrity=$(sqlite3 "$work/share.db" "PRAGMA integrity_check" 2>/dev/null || echo "sqlite3 missing")
first=${samples[1]:-${samples[0]}}; last=${samples[-1]}
echo "soak: ${SOAK_SECONDS}s, $requests requests ($s200 × 200 on /v1/share, $s5xx × 5xx), $redeemed redeem entries (≥ 200s: $([ "$redeemed" -ge "$s200" ] && echo yes || echo NO)),"
echo "      $(cat "$work/grant-cycles" 2>/dev/null || echo 0) grant issue/redeem/revoke cycles, $(cat "$work/remat-cycles" 2>/dev/null || echo 0) re-materialise + audit-read cycles,"
echo "      CLI failures: $(wc -l < "$work/cli-fail" 2>/dev/null || echo 0), chain $verify, integrity $integrity,"
echo "      server RSS MB: first sample after 10 s $first, last $last, max $(printf '%s\n' "${samples[@]}" | sort -n | tail -1) (samples: ${samples[*]})"
[ "$s5xx" -eq 0 ] && [ "$verify" = intact ] && [ ! -s "$work/cli-fail" ]
