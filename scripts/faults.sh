#!/usr/bin/env bash
# Fault injection (Linux): SIGKILL the CLI in the middle of an import and of a
# re-materialisation, and the server under load, at random points, many times; then a full
# disk (a small tmpfs), a read-only vault file, and two CLI processes writing at once.
# After every fault: PRAGMA integrity_check is ok, `vrm audit verify` passes, nothing
# half-written is visible, and every 200 a client received has its audit entry.
#
#   scripts/faults.sh                  # ROUNDS=20 per kind, SEED random
#   SEED=42 ROUNDS=50 scripts/faults.sh
# Needs root for the tmpfs mount (skipped otherwise), wrk and sqlite3 (apt).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-20}
SEED=${SEED:-$RANDOM}
RANDOM=$SEED

if [ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
for tool in wrk sqlite3 curl; do
  command -v "$tool" >/dev/null || { [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
done
swift build --product vrm >&2 && swift build --product vrm-bench >&2
BIN=$(swift build --show-bin-path)
VRM="$BIN/vrm"

work=$(mktemp -d "${TMPDIR:-/tmp}/vrm-faults-XXXXXX")
mounted=""
cleanup() {
  jobs -p | xargs -r kill -9 2>/dev/null || true
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
head -c 24 /dev/urandom | base64 > "$work/pw"
export VRM_PASSPHRASE_FILE="$work/pw" XDG_STATE_HOME="$work/state"

faults=0; failures=0; lost=0
fail() { echo "FAULT CHECK FAILED: $*" >&2; failures=$((failures + 1)); }
jitter() { python3 -c "import random; random.seed($1); print(f'{random.uniform($2, $3):.3f}')"; }
healthy() { # vault label
  local ic; ic=$(sqlite3 "$1" "PRAGMA integrity_check" 2>&1)
  [ "$ic" = ok ] || fail "$2: integrity_check: $ic"
  "$VRM" audit verify --vault "$1" >/dev/null 2>&1 || fail "$2: audit verify failed: $("$VRM" audit verify --vault "$1" 2>&1 | tail -1)"
}
count_json() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# 1. SIGKILL during an import of 5,000 rows: afterwards 0 or 5,000 purchases, never in between.
python3 - "$work/big.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("vendor,item,date,price,currency,order\n")
    for i in range(5000):
        f.write(f"Acme,Item {i},2026-01-{1 + i % 28:02d},{i % 500}.99,EUR,O-{i}\n")
PY
completed=0
for round in $(seq 1 "$ROUNDS"); do
  v="$work/import-$round.db"
  "$VRM" init --vault "$v" >/dev/null; "$VRM" vendor add Acme --vault "$v" >/dev/null
  "$VRM" purchase import "$work/big.csv" --vault "$v" >/dev/null 2>&1 & pid=$!
  sleep "$(jitter "$SEED$round" 0.05 3.0)"; kill -9 "$pid" 2>/dev/null && faults=$((faults + 1)); wait "$pid" 2>/dev/null || true
  n=$("$VRM" purchase list --vault "$v" --json | count_json)
  [ "$n" = 0 ] || [ "$n" = 5000 ] || fail "import round $round: $n purchases visible (half-imported)"
  [ "$n" = 5000 ] && completed=$((completed + 1))
  healthy "$v" "import round $round"
  rm -f "$v" "$v-wal" "$v-shm"
done
echo "import kills: $ROUNDS rounds, $completed finished before the kill, none half-written" >&2

# 2. SIGKILL during a re-materialisation of 300 grants: all shares move to the new version or none.
v="$work/remat.db"
"$VRM" init --vault "$v" >/dev/null
"$VRM" profile set address.shipping "start" --vault "$v" >/dev/null
"$BIN/vrm-bench" grants "$v" "$work/pw" 300
for round in $(seq 1 "$ROUNDS"); do
  "$VRM" profile set address.shipping "round $round" --vault "$v" >/dev/null 2>&1 & pid=$!
  sleep "$(jitter "$SEED$round" 0.02 0.6)"; kill -9 "$pid" 2>/dev/null && faults=$((faults + 1)); wait "$pid" 2>/dev/null || true
  versions=$(sqlite3 "$v" "SELECT count(DISTINCT share_version) FROM grants WHERE revoked_at IS NULL")
  [ "$versions" = 1 ] || fail "re-materialisation round $round: active grants at $versions different versions"
  healthy "$v" "re-materialisation round $round"
done
echo "re-materialisation kills: $ROUNDS rounds, every time all 300 shares at one version" >&2

# 3. SIGKILL the server under load: every 200 received has its redeem entry; counts exact.
"$BIN/vrm-bench" share-vault "$work/load.db" "$work/pw" "$work"
grant=$(cat "$work/bearer.grant")
redeemed() { "$VRM" audit --vault "$work/load.db" --grant "$grant" --json | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["event"]=="share.redeemed"))'; }
for round in $(seq 1 "$ROUNDS"); do
  before=$(redeemed)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  env -u VRM_PASSPHRASE_FILE "$VRM" serve --vault "$work/load.db" --port "$port" --max-failures 1000000000 2>/dev/null & server=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/livez" && break; sleep 0.05; done
  TOKEN=$(cat "$work/bearer.token") wrk -t2 -c32 -d3s -s Benchmarks/bearer.lua "http://127.0.0.1:$port/v1/share" > "$work/wrk.txt" 2>&1 & load=$!
  sleep "$(jitter "$SEED$round" 0.3 2.5)"; kill -9 "$server"; faults=$((faults + 1)); wait "$server" 2>/dev/null || true; wait "$load" || true
  total=$(awk '/requests in/ {print $1}' "$work/wrk.txt"); non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
  received=$(( ${total:-0} - ${non2xx:-0} ))
  after=$(redeemed)
  uses=$("$VRM" grant show "$grant" --vault "$work/load.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["use_count"])')
  if [ $((after - before)) -lt "$received" ]; then
    lost=$((lost + received - (after - before))); fail "server round $round: $received 200s received, only $((after - before)) redeem entries"
  fi
  [ "$after" = "$uses" ] || fail "server round $round: use count $uses but $after redeem entries"
  healthy "$work/load.db" "server round $round"
done
echo "server kills under load: $ROUNDS rounds, use count = redeem entries ≥ 200s received every time" >&2

# 4. A full disk: clear error, vault intact.
if [ "$(id -u)" -eq 0 ] && mkdir -p "$work/small" && mount -t tmpfs -o size=600k tmpfs "$work/small" 2>/dev/null; then
  mounted="$work/small"; v="$work/small/vault.db"
  "$VRM" init --vault "$v" >/dev/null; "$VRM" vendor add Acme --vault "$v" >/dev/null
  out=""; for i in $(seq 1 400); do
    if ! out=$("$VRM" purchase import "$work/big.csv" --vault "$v" 2>&1 >/dev/null); then break; fi
    "$VRM" vendor add "V$i" --vault "$v" >/dev/null 2>&1 || { out=$("$VRM" vendor add "V$i" --vault "$v" 2>&1); break; }
  done
  faults=$((faults + 1))
  echo "$out" | grep -q "disk is full" || fail "full disk: expected a 'disk is full' error, got: $out"
  n=$("$VRM" purchase list --vault "$v" --json 2>/dev/null | count_json || echo error)
  [ "$n" = 0 ] || [ "$n" = 5000 ] || fail "full disk: $n purchases visible"
  healthy "$v" "full disk"
  umount "$work/small"; mounted=""
  echo "full disk: '$(echo "$out" | tail -1)', vault intact" >&2
else
  echo "full disk: skipped (needs root to mount a tmpfs)" >&2
fi

# 5. A read-only vault file (as an unprivileged user, since root ignores permissions).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chmod 0711 "$work"   # let the unprivileged user reach its own directory below
  ro="$work/ro"; mkdir -p "$ro"; chown nobody:nogroup "$ro"; cp "$work/pw" "$ro/pw"; chown nobody "$ro/pw"
  as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$ro" XDG_STATE_HOME="$ro/state" VRM_PASSPHRASE_FILE="$ro/pw" "$VRM" "$@" --vault "$ro/vault.db"; }
  as_nobody init >/dev/null; as_nobody profile set email jo@example.org >/dev/null
  chmod 0400 "$ro/vault.db"; rm -f "$ro/vault.db-wal" "$ro/vault.db-shm"
  faults=$((faults + 1))
  if out=$(as_nobody profile set email other@example.org 2>&1); then fail "read-only: a write succeeded"; fi
  echo "$out" | grep -qi "read-only\|cannot open" || fail "read-only: unclear error: $out"
  chmod 0600 "$ro"/vault.db*   # SQLite gives -shm the mode the file had when it was made
  [ "$(as_nobody profile get email)" = "jo@example.org" ] || fail "read-only: the value changed"
  healthy "$ro/vault.db" "read-only"
  echo "read-only file: '$(echo "$out" | tail -1)', vault intact" >&2
else
  echo "read-only file: skipped (needs root to switch to an unprivileged user)" >&2
fi

# 6. Two CLI processes writing at once lose nothing.
v="$work/two.db"; "$VRM" init --vault "$v" >/dev/null; "$VRM" vendor add Acme --vault "$v" >/dev/null
writer() { for i in $(seq 1 40); do "$VRM" purchase add --vault "$v" --vendor Acme --item "$1-$i" >/dev/null || echo "writer $1 failed at $i" >&2; done; }
writer a & writer b & wait
n=$("$VRM" purchase list --vault "$v" --json | count_json)
[ "$n" = 80 ] || { fail "two writers: $n of 80 purchases"; lost=$((lost + 80 - n)); }
healthy "$v" "two writers"
echo "two writers: 80 of 80 purchases kept" >&2

echo "faults: seed $SEED, $faults faults injected, $failures failed checks, audit entries lost: $lost"
[ "$failures" -eq 0 ]
