#!/usr/bin/env bash
# libFuzzer over the parsers that take hostile input: token, vendor keys, scopes, the vault
# header (whole files), share envelopes, CSV and JSON import. Builds `vrm-fuzz` with
# -sanitize=fuzzer,address in its own scratch directory (.build-fuzz), seeds each target from
# Fuzz/corpus/<target> (plus real tokens, keys, shares and a vault made by vrm), and runs each
# for FUZZ_SECONDS (default 60). Crashes land in Fuzz/crashes/<target>/: add each one to
# Fuzz/corpus/<target>/ so `swift test` replays it from then on (FuzzReplayTests).
#
#   scripts/fuzz.sh                       # every target, 60 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh csv  # one target, longer
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
targets=("$@"); [ "${#targets[@]}" -gt 0 ] || targets=(token vendor-key scope header envelope csv json)
if [ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi

swift build --scratch-path .build-fuzz --product vrm-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >&2
FUZZ="$(swift build --scratch-path .build-fuzz --show-bin-path)/vrm-fuzz"
swift build --product vrm >&2
VRM="$(swift build --show-bin-path)/vrm"

work=$(mktemp -d "${TMPDIR:-/tmp}/vrm-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
# Real inputs as extra seeds: a vault file, tokens, keys, a signed and a sealed share.
export VRM_VAULT="$work/seed.db" XDG_STATE_HOME="$work/state" VRM_PASSPHRASE=fuzz-seed
"$VRM" init >/dev/null; "$VRM" profile set email jo@example.org >/dev/null; "$VRM" vendor add Acme >/dev/null
pub=$("$VRM" vendor-key generate --out "$work/key" 2>/dev/null); "$VRM" vendor add Bolt --public-key "$pub" >/dev/null
bearer=$("$VRM" grant create --vendor Acme --scope profile --purpose support --token-only)
keyed=$("$VRM" grant create --vendor Bolt --scope profile --purpose support --token-only)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u VRM_PASSPHRASE "$VRM" serve --port "$port" 2>/dev/null & server=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/livez" && break; sleep 0.1; done
for t in token vendor-key scope header envelope csv json; do mkdir -p "$work/seeds/$t"; cp Fuzz/corpus/$t/* "$work/seeds/$t/" 2>/dev/null || true; done
printf '%s' "$bearer" > "$work/seeds/token/real-bearer"; printf '%s' "$keyed" > "$work/seeds/token/real-keyed"
printf '%s' "$pub" > "$work/seeds/vendor-key/real-public"; cp "$work/key" "$work/seeds/vendor-key/real-secret"
curl -s -H "Authorization: Bearer $bearer" "http://127.0.0.1:$port/v1/share" > "$work/seeds/envelope/real-signed"
curl -s -H "Authorization: Bearer $keyed" "http://127.0.0.1:$port/v1/share" > "$work/seeds/envelope/real-sealed"
kill "$server"; wait "$server" 2>/dev/null || true
"$VRM" export --format json --out "$work/seeds/json/real-export" 2>/dev/null
sqlite3 "$VRM_VAULT" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null 2>&1 || true
cp "$VRM_VAULT" "$work/seeds/header/real-vault"

status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t" "Fuzz/crashes/$t"
  echo "== fuzzing $t for ${FUZZ_SECONDS}s" >&2
  if VRM_FUZZ_TARGET=$t "$FUZZ" "$work/corpus/$t" "$work/seeds/$t" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="Fuzz/crashes/$t/" -print_final_stats=1 2> "$work/$t.log"; then
    runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/$t.log")
    echo "$t: ${runs:-?} executions, no crash" 
  else
    echo "$t: CRASH — see Fuzz/crashes/$t/ and the log below"; tail -40 "$work/$t.log"; status=1
  fi
done
exit $status
