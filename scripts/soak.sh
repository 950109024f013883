#!/usr/bin/env bash
# Soak: SOAK_SECONDS (default 600) of mixed load against one vault — redemptions (wrk), denied
# attempts, grants issued and revoked, profile changes that re-materialise shares, and audit
# reads — while the server's RSS is sampled every 10 s. Release build; 127.0.0.1 only; stops
# by itself. Fails (exit 1) when any check it reports fails:
#  - every valid-token request wrk completed was a 200, every garbage-token one a 401, and
#    every freshly issued grant's first redemption (curl) a 200;
#  - redeem entries ≥ the 200s the clients received, and exceed them by no more than the
#    requests wrk can leave unanswered when a slice stops (one per connection per slice);
#  - the server's access log shows exactly as many 200s on /v1/share as there are redeem
#    entries (the server is stopped cleanly, so every committed redemption was answered);
#  - no 5xx, no CLI failure, the hash chain intact, PRAGMA integrity_check ok;
#  - the server's RSS grew by at most RSS_GROWTH_MB (default 8) from the sample at 20 s to the last.
#
#   scripts/soak.sh                    # ten minutes
#   SOAK_SECONDS=120 scripts/soak.sh   # a short run (DURATION is accepted too)
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS=${SOAK_SECONDS:-${DURATION:-600}}
RSS_GROWTH_MB=${RSS_GROWTH_MB:-8}
CONNECTIONS=16
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
: > "$work/cli-fail"; : > "$work/wrk-valid"; : > "$work/wrk-denied"; : > "$work/curl-status"

# wrk's summary, as "completed non-2xx/3xx socket-errors": what the client itself received.
wrk_counts() {
  awk '/requests in/ {n = $1} /Non-2xx/ {bad = $NF} /Socket errors/ {gsub(",", ""); e = $4 + $6 + $8 + $10}
       END {print n + 0, bad + 0, e + 0}' "$1"
}
# Redemptions and denials: wrk in slices so the other loops interleave.
( while [ "$(date +%s)" -lt "$end" ]; do
    TOKEN=$(cat "$work/bearer.token") wrk -t1 -c"$CONNECTIONS" -d5s -s Benchmarks/bearer.lua "http://127.0.0.1:$port/v1/share" > "$work/wrk.txt" 2>&1
    wrk_counts "$work/wrk.txt" >> "$work/wrk-valid"
    TOKEN=vrm_not-a-token wrk -t1 -c4 -d1s -s Benchmarks/bearer.lua "http://127.0.0.1:$port/v1/share" > "$work/wrk.txt" 2>&1
    wrk_counts "$work/wrk.txt" >> "$work/wrk-denied"
  done ) &
# Grants issued, redeemed once, revoked.
( n=0; while [ "$(date +%s)" -lt "$end" ]; do
    t=$("$VRM" grant create --vendor "Bench Bearer" --scope profile.email --purpose support --token-only 2>>"$work/cli-errors.log") || { echo grant >> "$work/cli-fail"; continue; }
    curl -s -o /dev/null -w '%{http_code}\n' -H @<(printf 'Authorization: Bearer %s\n' "$t") "http://127.0.0.1:$port/v1/share" >> "$work/curl-status" || echo 000 >> "$work/curl-status"
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
  sleep 10
  samples+=("$(awk '/VmRSS/ {printf "%d", $2/1024}' "/proc/$server/status")")
done
wait %2 %3 %4 2>/dev/null || true
sleep 1
kill -TERM "$server"; wait "$server" 2>/dev/null || true

failures=0
check() { # message test-expression…: counts and prints a failure unless the expression holds
  local message=$1; shift
  if ! [ "$@" ]; then echo "SOAK CHECK FAILED: $message" >&2; failures=$((failures + 1)); fi
}
read -r valid_done valid_bad valid_errors < <(awk '{n += $1; b += $2; e += $3} END {print n + 0, b + 0, e + 0}' "$work/wrk-valid")
read -r denied_done denied_bad denied_errors < <(awk '{n += $1; b += $2; e += $3} END {print n + 0, b + 0, e + 0}' "$work/wrk-denied")
slices=$(wc -l < "$work/wrk-valid")
cycles=$(cat "$work/grant-cycles" 2>/dev/null || echo 0)
curl_200=$(grep -c '^200$' "$work/curl-status" || true); curl_other=$(grep -vc '^200$' "$work/curl-status" || true)
received=$(( valid_done - valid_bad + curl_200 ))
requests=$(wc -l < "$work/access.log")
s5xx=$(grep -c '"status":5' "$work/access.log" || true)
log_200=$(grep '"path":"/v1/share"' "$work/access.log" | grep -c '"status":200' || true)   # /livez probes excluded
redeemed=$("$VRM" audit --json | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["event"]=="share.redeemed"))')
verify=$("$VRM" audit verify >/dev/null 2>&1 && echo intact || echo BROKEN)
integrity=$(sqlite3 "$work/share.db" "PRAGMA integrity_check" 2>&1 || true)
cli_failures=$(wc -l < "$work/cli-fail")
first=${samples[1]:-${samples[0]:-0}}; last=${samples[-1]:-0}; growth=$(( last - first ))
unanswered_bound=$(( slices * CONNECTIONS ))

check "wrk completed no valid-token request" "$valid_done" -gt 0
check "$valid_bad of $valid_done valid-token requests were not answered 200" "$valid_bad" -eq 0
check "$((denied_done - denied_bad)) of $denied_done garbage-token requests were answered 2xx/3xx" "$denied_bad" -eq "$denied_done"
check "$curl_other of $((curl_200 + curl_other)) freshly issued grants were not answered 200" "$curl_other" -eq 0
check "$received 200s received but only $redeemed redeem entries" "$redeemed" -ge "$received"
check "$redeemed redeem entries for $received 200s received (more than the $unanswered_bound wrk can leave unanswered)" $(( redeemed - received )) -le "$unanswered_bound"
check "the access log shows $log_200 200s on /v1/share but there are $redeemed redeem entries" "$log_200" -eq "$redeemed"
check "$s5xx responses were 5xx" "$s5xx" -eq 0
check "$cli_failures CLI commands failed: $(sort "$work/cli-fail" | uniq -c | tr '\n' ' ')" "$cli_failures" -eq 0
check "the hash chain is broken" "$verify" = intact
check "integrity_check: $integrity" "$integrity" = ok
check "fewer than two RSS samples" "${#samples[@]}" -ge 2
check "server RSS grew by $growth MB (bound $RSS_GROWTH_MB MB; samples: ${samples[*]})" "$growth" -le "$RSS_GROWTH_MB"

echo "soak: ${SOAK_SECONDS}s, $requests requests; clients received $received × 200 ($((valid_done - valid_bad)) from wrk over $slices slices, $curl_200 from fresh grants) and $denied_bad × 401 for the garbage token;"
echo "      $redeemed redeem entries ($((redeemed - received)) answered after wrk stopped counting; bound $unanswered_bound), $log_200 × 200 in the access log, $s5xx × 5xx, socket errors: $((valid_errors + denied_errors)),"
echo "      $cycles grant issue/redeem/revoke cycles, $(cat "$work/remat-cycles" 2>/dev/null || echo 0) re-materialise + audit-read cycles, CLI failures: $cli_failures, chain $verify, integrity $integrity,"
echo "      server RSS MB: at 20 s $first, last $last (growth $growth, bound $RSS_GROWTH_MB), max $(printf '%s\n' "${samples[@]}" | sort -n | tail -1) (samples every 10 s: ${samples[*]});"
echo "      $failures failed checks"
[ "$failures" -eq 0 ]
