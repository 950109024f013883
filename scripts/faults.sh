#!/usr/bin/env bash
# Fault injection (Linux): SIGKILL the CLI in the middle of an import and of a
# re-materialisation, and the server under load, at random points, many times; then a full
# disk (a small tmpfs), a read-only vault file, and two CLI processes writing at once.
# After every fault: PRAGMA integrity_check is ok, `vrm audit verify` passes, nothing
# half-written is visible, and every 200 a client received has exactly one history entry.
#
# Every kill is timed from inside this script (no interpreter start-up between the decision
# and the signal) and counted as a hit only if its target was still running: its wait status
# is then 137, where a process that had already exited reports its own. A run in which fewer
# than 80 % of the kills hit fails, as does any failed check.
#
#   scripts/faults.sh                  # ROUNDS=20 per kind, SEED random
#   SEED=42 ROUNDS=50 scripts/faults.sh
# Needs root for the tmpfs mount (skipped otherwise), sqlite3, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C   # EPOCHREALTIME with a decimal point
ROUNDS=${ROUNDS:-20}
SEED=${SEED:-$RANDOM}
RANDOM=$SEED
IMPORT_ROWS=5000

if [ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
for tool in sqlite3 curl; do
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

faults=0; failures=0; lost=0; kills=0; hits=0
fail() { echo "FAULT CHECK FAILED: $*" >&2; failures=$((failures + 1)); }
healthy() { # vault label
  local ic; ic=$(sqlite3 "$1" "PRAGMA integrity_check" 2>&1)
  [ "$ic" = ok ] || fail "$2: integrity_check: $ic"
  "$VRM" audit verify --vault "$1" >/dev/null 2>&1 || fail "$2: audit verify failed: $("$VRM" audit verify --vault "$1" 2>&1 | tail -1)"
}
count_json() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
verdict() { [ "$failures" = "$1" ] && echo "$2" || echo "CHECKS FAILED (above)"; }   # failures-before text

# Time in microseconds, a seeded random number of them, and sleeping for them — all in this
# shell, so nothing starts up between choosing a moment and signalling at it.
now_us() { REPLY=${EPOCHREALTIME/./}; }
random_us() { local hi=$(( $2 > $1 ? $2 : $1 )); REPLY=$(( $1 + (RANDOM * 32768 + RANDOM) % (hi - $1 + 1) )); }   # in [$1, $2]
sleep_us() { local s; printf -v s '%d.%06d' $(( $1 / 1000000 )) $(( $1 % 1000000 )); sleep "$s"; }
ms() { printf '%d' $(( $1 / 1000 )); }

# SIGKILL a child of this shell and reap it. A hit only if it was still running (status 137).
kill_child() { # pid label
  local status=0
  kill -9 "$1" 2>/dev/null || true
  { wait "$1"; } 2>/dev/null || status=$?
  kills=$((kills + 1)); faults=$((faults + 1))
  if [ "$status" -eq 137 ]; then hits=$((hits + 1)); return 0; fi
  echo "  $2: MISSED — the process had already exited with status $status" >&2
  return 1
}

# The CLI prints its one closing line after its commit (and after closing the vault). With
# its standard output on this FIFO, whose pipe buffer is kept full, that write blocks: a CLI
# process that has committed stays alive, held at a known point, until it is killed.
hold="$work/hold"; mkfifo "$hold"; exec 3<>"$hold"
fill_hold() { dd if=/dev/zero of="$hold" bs=4096 count=1024 oflag=nonblock 2>/dev/null || true; }
mkfifo "$work/tick"; exec 4<>"$work/tick"   # nobody writes to it: `read -t` on it sleeps in this shell

# What a CLI process is doing, read from /proc by this shell alone: REPLY=gone (exited), held
# (blocked on its closing line, so past its commit), tx (holding SQLite's WAL write lock, byte
# 120 of the -shm file per sqlite.org/walformat.html, after its unlock, which Argon2id's
# 64 MiB leave in its peak RSS — the schema check at open takes the lock before that), or running.
probe() {
  local pid=$1 state="" f w key value line
  { read -r _ _ state _ < "/proc/$pid/stat"; } 2>/dev/null || true
  if [ -z "$state" ] || [ "$state" = Z ]; then REPLY=gone; return 0; fi
  for f in /proc/"$pid"/task/*/wchan; do
    w=""; { read -r w < "$f"; } 2>/dev/null || true
    if [[ $w == *pipe_write* || $w == pipe_wait ]]; then REPLY=held; return 0; fi   # pipe_wait: kernels before 5.5
  done
  REPLY=running
  { while read -r key value _; do [ "$key" = VmHWM: ] && break; done < "/proc/$pid/status"; } 2>/dev/null || return 0
  [ "${value:-0}" -ge 65536 ] || return 0
  while read -r line; do
    if [[ $line == *" WRITE $pid "*" 120 120" ]]; then REPLY=tx; return 0; fi
  done < /proc/locks
}
# Polls PID every millisecond until probe says $2; fails if the process is held or gone
# first, or after a minute.
watch_until() {
  local deadline=$(( ${EPOCHREALTIME/./} + 60000000 ))
  while [ "${EPOCHREALTIME/./}" -lt "$deadline" ]; do
    probe "$1"
    [ "$REPLY" = "$2" ] && return 0
    if [ "$REPLY" = gone ] || [ "$REPLY" = held ]; then return 1; fi
    read -r -t 0.001 -u 4 _ || true
  done
  return 1
}
describe() { case $1 in tx) echo "inside it" ;; held) echo "held after its commit" ;; *) echo "past its write lock" ;; esac; }

# 1. SIGKILL during an import of 5,000 rows: afterwards 0 or 5,000 purchases, never in between.
# Rounds 1, 4, 7, … wait for the commit (the process held at its closing line) and time the
# write transaction from its start to there; the others kill at a random point of the first
# 75 % of that time after the transaction has started.
awk -v n="$IMPORT_ROWS" 'BEGIN { print "vendor,item,date,price,currency,order";
  for (i = 0; i < n; i++) printf "Acme,Item %d,2026-01-%02d,%d.99,EUR,O-%d\n", i, 1 + i % 28, i % 500, i }' > "$work/big.csv"
tx_us=0; none=0; all=0; half=0; inside=0
for round in $(seq 1 "$ROUNDS"); do
  v="$work/import-$round.db"
  "$VRM" init --vault "$v" >/dev/null; "$VRM" vendor add Acme --vault "$v" >/dev/null
  after_commit=$(( round % 3 == 1 || tx_us == 0 ))
  fill_hold
  "$VRM" purchase import "$work/big.csv" --vault "$v" > "$hold" 2>/dev/null & pid=$!
  if watch_until "$pid" tx; then
    now_us; started=$REPLY
    if [ "$after_commit" = 1 ]; then
      watch_until "$pid" held || true
      now_us; tx_us=$(( REPLY - started )); random_us 0 100000; sleep_us "$REPLY"
      when="$(ms "$REPLY") ms after it was held (its write transaction and close took $(ms "$tx_us") ms)"
    else
      random_us 0 $(( tx_us * 3 / 4 )); sleep_us "$REPLY"; when="$(ms "$REPLY") ms after its write transaction began"
    fi
  else
    when="without having seen its write transaction"
  fi
  probe "$pid"; at=$REPLY; [ "$at" = tx ] && inside=$((inside + 1))
  kill_child "$pid" "import round $round" || true
  n=$(sqlite3 "$v" "SELECT count(*) FROM purchases")
  case $n in
    0) none=$((none + 1)); outcome="none of the rows" ;;
    "$IMPORT_ROWS") all=$((all + 1)); outcome="all $n rows" ;;
    *) half=$((half + 1)); outcome="$n rows (HALF-WRITTEN)"; fail "import round $round: $n purchases visible (half-imported)" ;;
  esac
  [ "$at" != held ] || [ "$n" = "$IMPORT_ROWS" ] || fail "import round $round: killed after its commit, but $n purchases visible"
  echo "  import round $round: killed $when, $(describe "$at"): $outcome" >&2
  healthy "$v" "import round $round"
  rm -f "$v" "$v-wal" "$v-shm"
done
if [ "$ROUNDS" -ge 2 ]; then
  [ "$none" -gt 0 ] || fail "import: no kill landed before a commit"
  [ "$all" -gt 0 ] || fail "import: no kill landed after a commit"
fi
echo "import kills: $ROUNDS rounds ($inside inside the write transaction), $none left none of the $IMPORT_ROWS rows, $all all of them, $half half-written" >&2

# 2. SIGKILL during a re-materialisation of 300 grants: all shares move to the new version or none.
# Each round first times an unkilled `profile set` from the start of its write transaction to
# its exit, then kills another at a random point after its write transaction has started:
# within 80 % of that time in odd rounds, within 125 % in even ones (so some after the commit).
v="$work/remat.db"
"$VRM" init --vault "$v" >/dev/null
"$VRM" profile set address.shipping "start" --vault "$v" >/dev/null
"$BIN/vrm-bench" grants "$v" "$work/pw" 300
share_versions() { sqlite3 "$v" "SELECT count(DISTINCT share_version) || ' ' || max(share_version) FROM grants WHERE revoked_at IS NULL"; }
moved=0; kept=0; inside=0; remat_us=50000
for round in $(seq 1 "$ROUNDS"); do
  read -r _ before < <(share_versions)
  "$VRM" profile set address.shipping "timed $round" --vault "$v" >/dev/null & pid=$!
  if watch_until "$pid" tx; then
    now_us; started=$REPLY; wait "$pid" || fail "re-materialisation round $round: the timed run failed"; now_us; remat_us=$(( REPLY - started ))
  else
    wait "$pid" || fail "re-materialisation round $round: the timed run failed"
  fi
  read -r count timed < <(share_versions)
  [ "$count" = 1 ] && [ "$timed" = $((before + 1)) ] || fail "re-materialisation round $round: an unkilled run left versions '$count $timed' (from $before)"
  fill_hold
  "$VRM" profile set address.shipping "round $round" --vault "$v" > "$hold" 2>/dev/null & pid=$!
  if watch_until "$pid" tx; then
    random_us 0 $(( remat_us * (round % 2 ? 80 : 125) / 100 )); sleep_us "$REPLY"
    when="$(ms "$REPLY") ms after its write transaction began (the timed run's took $(ms "$remat_us") ms to exit)"
  else
    when="without having seen its write transaction"
  fi
  probe "$pid"; at=$REPLY; [ "$at" = tx ] && inside=$((inside + 1))
  kill_child "$pid" "re-materialisation round $round" || true
  value=$("$VRM" profile get address.shipping --vault "$v")
  read -r count after < <(share_versions)
  [ "$count" = 1 ] || fail "re-materialisation round $round: active grants at $count different versions"
  case $value in
    "round $round") moved=$((moved + 1)); outcome="committed, all 300 shares moved"
      [ "$after" = $((timed + 1)) ] || fail "re-materialisation round $round: the value changed but the shares are at version $after (expected $((timed + 1)))" ;;
    "timed $round") kept=$((kept + 1)); outcome="not committed, no share moved"
      [ "$after" = "$timed" ] || fail "re-materialisation round $round: the value did not change but the shares moved to version $after" ;;
    *) outcome="?"; fail "re-materialisation round $round: unexpected value '$value'" ;;
  esac
  [ "$at" != held ] || [ "$value" = "round $round" ] || fail "re-materialisation round $round: killed after its commit, but the value did not change"
  echo "  re-materialisation round $round: killed $when, $(describe "$at"): $outcome" >&2
  healthy "$v" "re-materialisation round $round"
done
[ "$ROUNDS" -lt 2 ] || [ "$inside" -gt 0 ] || fail "re-materialisation: no kill landed inside the write transaction"
echo "re-materialisation kills: $ROUNDS rounds ($inside inside the write transaction), $moved committed (all 300 shares moved), $kept not (none moved)" >&2

# 3. SIGKILL the server under load: every 200 the client received has exactly one redeem
# entry with that request's own User-Agent; the use count equals the redeem entries.
"$BIN/vrm-bench" share-vault "$work/load.db" "$work/pw" "$work"
grant=$(cat "$work/bearer.grant")
received_total=0; unanswered_total=0
for round in $(seq 1 "$ROUNDS"); do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  env -u VRM_PASSPHRASE_FILE "$VRM" serve --vault "$work/load.db" --port "$port" --max-failures 1000000000 2>/dev/null & server=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/livez" && break; sleep 0.05; done
  results="$work/load-$round.txt"
  python3 scripts/share_load.py "$port" "$work/bearer.token" "r$round" 16 "$results" 60 & load=$!
  for _ in $(seq 1 600); do [ -e "$results.started" ] || ! kill -0 "$load" 2>/dev/null && break; sleep 0.05; done
  random_us 200000 1500000; sleep_us "$REPLY"
  kill_child "$server" "server round $round" || true
  wait "$load" || fail "server round $round: the load client failed"
  if report=$("$VRM" audit --vault "$work/load.db" --grant "$grant" --json | python3 -c '
import collections, json, sys
prefix, results = sys.argv[1] + "-", sys.argv[2]
status = dict(line.split() for line in open(results))
entries = collections.Counter(e["detail"].get("user_agent") for e in json.load(sys.stdin) if e["event"] == "share.redeemed")
ok = [ua for ua, s in status.items() if s == "200"]
missing = [ua for ua in ok if entries[ua] == 0]
doubled = [ua for ua, n in entries.items() if ua and ua.startswith(prefix) and n > 1]
refused = [ua for ua, s in status.items() if s not in ("200", "error") and entries[ua] > 0]
unanswered = [ua for ua, s in status.items() if s == "error" and entries[ua] > 0]
print(len(ok), len(missing), len(unanswered), sum(entries.values()), f"{len(doubled)} with two entries, {len(refused)} refused but recorded")
sys.exit(1 if missing or doubled or refused else 0)' "r$round" "$results"); then ok=1; else ok=0; fi
  read -r received missing unanswered redeemed rest <<< "$report"
  [ "$ok" = 1 ] || fail "server round $round: ${received:-0} 200s received, ${missing:-?} without their redeem entry, ${rest:-no report}"
  [ "${received:-0}" -gt 0 ] || fail "server round $round: the client received no 200"
  lost=$((lost + ${missing:-0})); received_total=$((received_total + ${received:-0})); unanswered_total=$((unanswered_total + ${unanswered:-0}))
  uses=$("$VRM" grant show "$grant" --vault "$work/load.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["use_count"])')
  [ "$redeemed" = "$uses" ] || fail "server round $round: use count $uses but $redeemed redeem entries"
  echo "  server round $round: killed $(ms "$REPLY") ms into the load; ${received:-0} 200s received, ${missing:-?} of them without their entry; ${unanswered:-?} committed but unanswered" >&2
  healthy "$work/load.db" "server round $round"
done
echo "server kills under load: $ROUNDS rounds, $received_total 200s received, $lost without their own redeem entry ($unanswered_total more committed but unanswered)" >&2

# 4. A full disk: clear error, vault intact.
if [ "$(id -u)" -eq 0 ] && mkdir -p "$work/small" && mount -t tmpfs -o size=600k tmpfs "$work/small" 2>/dev/null; then
  mounted="$work/small"; v="$work/small/vault.db"; before=$failures
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
  echo "full disk: '$(echo "$out" | tail -1)', $(verdict "$before" "vault intact")" >&2
else
  echo "full disk: skipped (needs root to mount a tmpfs)" >&2
fi

# 5. A read-only vault file (as an unprivileged user, since root ignores permissions).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chmod 0711 "$work"; before=$failures   # let the unprivileged user reach its own directory below
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
  echo "read-only file: '$(echo "$out" | tail -1)', $(verdict "$before" "value unchanged, vault intact")" >&2
else
  echo "read-only file: skipped (needs root to switch to an unprivileged user)" >&2
fi

# 6. Two CLI processes writing at once lose nothing.
v="$work/two.db"; "$VRM" init --vault "$v" >/dev/null; "$VRM" vendor add Acme --vault "$v" >/dev/null
writer() { for i in $(seq 1 40); do "$VRM" purchase add --vault "$v" --vendor Acme --item "$1-$i" >/dev/null || echo "writer $1 failed at $i" >&2; done; }
writer a & writer b & wait
n=$("$VRM" purchase list --vault "$v" --json | count_json)
[ "$n" = 80 ] || fail "two writers: $n of 80 purchases"
healthy "$v" "two writers"
echo "two writers: $n of 80 purchases kept" >&2

echo "faults: seed $SEED, $faults faults injected, $hits of $kills kills hit a running process ($((kills - hits)) missed), $failures failed checks, audit entries lost: $lost"
[ $(( hits * 100 )) -ge $(( kills * 80 )) ] || { echo "FAULT CHECK FAILED: only $hits of $kills kills hit a running process (80 % needed)" >&2; exit 1; }
[ "$failures" -eq 0 ]
