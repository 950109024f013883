#!/usr/bin/env bash
# libFuzzer over the parsers that take hostile input: token, vendor keys, scopes, the vault
# header (whole files, a wrong passphrase), whole vault files unlocked with the right
# passphrase and then read through every feature (header-unlocked), share envelopes, CSV and
# JSON import. Builds `vrm-fuzz` with -sanitize=fuzzer,address in its own scratch directory
# (.build-fuzz), seeds each target from Fuzz/corpus/<target> (plus real tokens, keys, shares
# and vaults made by vrm and by `vrm-fuzz seed-vault`), and runs each for FUZZ_SECONDS
# (default 60). Fails if a target crashes (a failed property is a crash), runs no input, or,
# for header-unlocked, has no seed that unlocks. Crashes land in Fuzz/crashes/<target>/: add
# each one to Fuzz/corpus/<target>/ so `swift test` replays it from then on (FuzzReplayTests).
#
#   scripts/fuzz.sh                       # every target, 60 s each, SEED random
#   FUZZ_SECONDS=300 SEED=7 scripts/fuzz.sh csv  # one target, longer, libFuzzer's -seed=7
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
SEED=${SEED:-$((RANDOM + 1))}
all_targets=(token vendor-key scope header header-unlocked envelope csv json)
targets=("$@"); [ "${#targets[@]}" -gt 0 ] || targets=("${all_targets[@]}")
if [ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi

swift build --scratch-path .build-fuzz --product vrm-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >&2
FUZZ="$(swift build --scratch-path .build-fuzz --show-bin-path)/vrm-fuzz"
swift build --product vrm >&2 && swift build --product vrm-fuzz >&2
VRM="$(swift build --show-bin-path)/vrm"
REPLAY="$(swift build --show-bin-path)/vrm-fuzz"   # the plain build: replays inputs, writes seed vaults

work=$(mktemp -d "${TMPDIR:-/tmp}/vrm-fuzz-XXXXXX")
# The vault targets write each input to a scratch file and open it; on a tmpfs its fsyncs are free.
scratch=$(mktemp -d /dev/shm/vrm-fuzz-XXXXXX 2>/dev/null || mktemp -d "${TMPDIR:-/tmp}/vrm-fuzz-scratch-XXXXXX")
trap 'rm -rf "$work" "$scratch"' EXIT
# Real inputs as extra seeds: a vault file, tokens, keys, a signed and a sealed share.
export VRM_VAULT="$work/seed.db" XDG_STATE_HOME="$work/state" VRM_PASSPHRASE=fuzz-seed
"$VRM" init >/dev/null; "$VRM" profile set email jo@example.org >/dev/null; "$VRM" vendor add Acme >/dev/null
pub=$("$VRM" vendor-key generate --out "$work/key" 2>/dev/null); "$VRM" vendor add Bolt --public-key "$pub" >/dev/null
bearer=$("$VRM" grant create --vendor Acme --scope profile --purpose support --token-only)
keyed=$("$VRM" grant create --vendor Bolt --scope profile --purpose support --token-only)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u VRM_PASSPHRASE "$VRM" serve --port "$port" 2>/dev/null & server=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/livez" && break; sleep 0.1; done
for t in "${all_targets[@]}"; do mkdir -p "$work/seeds/$t"; cp Fuzz/corpus/$t/* "$work/seeds/$t/" 2>/dev/null || true; done
printf '%s' "$bearer" > "$work/seeds/token/real-bearer"; printf '%s' "$keyed" > "$work/seeds/token/real-keyed"
printf '%s' "$pub" > "$work/seeds/vendor-key/real-public"; cp "$work/key" "$work/seeds/vendor-key/real-secret"
# Tokens reach curl through a file descriptor (printf is a shell builtin), never argv.
curl -s -H @<(printf 'Authorization: Bearer %s\n' "$bearer") "http://127.0.0.1:$port/v1/share" > "$work/seeds/envelope/real-signed"
curl -s -H @<(printf 'Authorization: Bearer %s\n' "$keyed") "http://127.0.0.1:$port/v1/share" > "$work/seeds/envelope/real-sealed"
kill "$server"; wait "$server" 2>/dev/null || true
"$VRM" export --format json --out "$work/seeds/json/real-export" 2>/dev/null
sqlite3 "$VRM_VAULT" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null 2>&1 || true
# Vault files rewritten with 512-byte pages, so a whole file fits in -max_len (a vault's
# rows have ids of their own, so VACUUM changes nothing they authenticate).
small_pages() { sqlite3 "$1" "PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;" >/dev/null; }
cp "$VRM_VAULT" "$work/seeds/header/real-vault"; small_pages "$work/seeds/header/real-vault"
# A vault header-unlocked can open: its passphrase, the cheapest key derivation, a record of every kind.
"$REPLAY" seed-vault "$work/seeds/header-unlocked/fresh-vault"; small_pages "$work/seeds/header-unlocked/fresh-vault"
cp "$work/seeds/header-unlocked/fresh-vault" "$work/seeds/header/cheap-kdf-vault"   # wrong passphrases tried fast
unlocked=$("$REPLAY" header-unlocked "$work/seeds/header-unlocked" | awk '{print $5}')
echo "header-unlocked: ${unlocked:-0} of $(ls "$work/seeds/header-unlocked" | wc -l) seeds unlock" >&2

status=0; total=0
if [[ " ${targets[*]} " == *" header-unlocked "* ]] && [ "${unlocked:-0}" -lt 1 ]; then
  echo "header-unlocked: no seed unlocks, so nothing past the unlock would be fuzzed"; status=1
fi
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t" "Fuzz/crashes/$t"
  echo "== fuzzing $t for ${FUZZ_SECONDS}s (seed $SEED)" >&2
  if TMPDIR="$scratch" VRM_FUZZ_TARGET=$t "$FUZZ" "$work/corpus/$t" "$work/seeds/$t" -seed="$SEED" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="Fuzz/crashes/$t/" -print_final_stats=1 2> "$work/$t.log"; then
    runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/$t.log")
    if [ "${runs:-0}" -gt 0 ]; then
      echo "$t: $runs executions, no crash"; total=$((total + runs))
    else
      echo "$t: NO INPUT RAN — see the log below"; tail -20 "$work/$t.log"; status=1
    fi
  else
    echo "$t: CRASH — see Fuzz/crashes/$t/ and the log below"; tail -40 "$work/$t.log"; status=1
  fi
done
echo "fuzz: seed $SEED, ${FUZZ_SECONDS}s per target, $total executions, $([ "$status" = 0 ] && echo "no crash" || echo "FAILED (see above)")"
exit $status
