#!/usr/bin/env bash
# VRM Vault benchmarks: builds in release mode, runs everything side by side in one run, and
# prints one table of figures and ratios (issue 6); with BASELINE, a second table compares the
# current code with another revision, run alternately in the same run (issue 15). Servers listen
# on 127.0.0.1 only and are stopped at the end. Not a test: `swift test` stays fast.
#
#   Benchmarks/run.sh                 # full run (about 5 minutes after the build)
#   DURATION=5 Benchmarks/run.sh      # shorter wrk runs
#   PAIRS=7 Benchmarks/run.sh         # more alternating baseline/redemption pairs (default 5)
#   ONLY=throughput Benchmarks/run.sh # one part: crypto, throughput, large, relay, everyday (comma-separated)
#   RELAY_VAULTS=1000 RELAY_GRANTS=100000 ONLY=relay Benchmarks/run.sh   # a smaller relay load
#   BASELINE=HEAD~1 Benchmarks/run.sh # also build that git revision (release, in a git worktree in
#                                     # the work directory) and run its `vrm serve` and `vrm` CLI
#                                     # alternately with the current ones; prints a comparison table
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
PAIRS=${PAIRS:-5}
[[ "$PAIRS" =~ ^[1-9][0-9]*$ ]] || { echo "PAIRS must be a whole number ≥ 1 (got '$PAIRS')" >&2; exit 2; }
CONNECTIONS=${CONNECTIONS:-64}
ONLY=${ONLY:-crypto,throughput,large,relay,everyday}
RELAY_VAULTS=${RELAY_VAULTS:-10000}
RELAY_GRANTS=${RELAY_GRANTS:-1000000}
part() { [[ ",$ONLY," == *",$1,"* ]]; }
BASELINE=${BASELINE:-}
# The baseline only takes part in the throughput and large-vault parts.
if [ -n "$BASELINE" ] && ! part throughput && ! part large; then BASELINE=""; fi
if [ -n "$BASELINE" ]; then
  base_rev=$(git rev-parse --verify --quiet "$BASELINE^{commit}") || { echo "BASELINE: '$BASELINE' is not a git revision here" >&2; exit 2; }
  base_label="$(git rev-parse --short "$base_rev") ($BASELINE)"
  cur_label="$(git rev-parse --short HEAD)$([ -z "$(git status --porcelain --untracked-files=no)" ] || echo ' + uncommitted changes')"
fi

if [ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
missing=()
for pkg in libsodium-dev libsqlite3-dev pkg-config wrk gcc sqlite3 postgresql; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vrm-bench-XXXXXX")
nginx_pid=""
base_tree=""
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  # nginx's master takes its workers along on TERM (on KILL they would stay on the port).
  if [ -n "$nginx_pid" ]; then kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true; fi
  # Only jobs still running: a PID already waited for may belong to another process by now.
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null || true; done
  if [ -n "${pgbin:-}" ]; then as_postgres "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  if [ -n "$base_tree" ]; then git worktree remove --force "$base_tree" 2>/dev/null || true; fi
  rm -rf "$work"
  if [ -n "$base_tree" ]; then git worktree prune 2>/dev/null || true; fi
}
trap cleanup EXIT

echo "building (release)…" >&2
swift build -c release >&2
BIN=$(swift build -c release --show-bin-path)

# The baseline: the same package at another revision, checked out in a git worktree inside the
# work directory and built there (scratch path .build-baseline, also inside the work directory,
# so nothing is left in the repository). Only its `vrm` is used: the helpers (vrm-bench,
# vrm-baseline) and the generated vaults are the current ones, as the vault format is the same.
if [ -n "$BASELINE" ]; then
  base_tree="$work/baseline"
  echo "building the baseline $base_label (release, in $base_tree)…" >&2
  git worktree add --quiet --detach "$base_tree" "$base_rev"
  # The same dependency versions as the current tree, when it has resolved them.
  if [ -f Package.resolved ]; then cp Package.resolved "$base_tree/"; fi
  (cd "$base_tree" && swift build -c release --product vrm --scratch-path "$base_tree/.build-baseline") >&2
  BASE_BIN=$(cd "$base_tree" && swift build -c release --product vrm --scratch-path "$base_tree/.build-baseline" --show-bin-path)
  [ -x "$BASE_BIN/vrm" ] || { echo "the baseline build has no vrm in $BASE_BIN" >&2; exit 1; }
fi
head -c 24 /dev/urandom | base64 > "$work/pw"
export XDG_STATE_HOME="$work/state"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_ready() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/$2" && return 0; sleep 0.1; done; return 1; }
wait_port() { port_ready "$1" "$2" || { echo "server on $1 did not start" >&2; exit 1; }; }
# run_wrk PORT TOKEN → "requests/s p99_ms non2xx total"
run_wrk() {
  local out
  out=$(TOKEN="$2" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s Benchmarks/bearer.lua "http://127.0.0.1:$1/v1/share")
  local rps p99 non2xx total
  rps=$(echo "$out" | awk '/^Requests\/sec/ {print int($2)}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; printf "%.2f", v}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}'); non2xx=${non2xx:-0}
  total=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$rps $p99 $non2xx $total"
}
rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

rows=()
row() { rows+=("$(printf '%-58s %14s %12s' "$1" "$2" "$3")"); }
# The comparison table (BASELINE): label, baseline, current, ratio current/baseline and its spread.
cmp_rows=()
cmp_row() { cmp_rows+=("$(printf '%-58s %10s %10s %7s  %s' "$1" "$2" "$3" "$4" "$5")"); }
# compare LABEL DIGITS → reads "baseline current" lines (one per pair) on stdin, adds a row with
# both medians and the median of the pairs' ratios (current / baseline), with every pair's ratio.
compare() {
  local text
  text=$(python3 -c '
import statistics, sys
digits = int(sys.argv[1])
pairs = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
ratios = [c / b for b, c in pairs if b > 0]
fmt = lambda v: f"{v:.{digits}f}"
if not ratios:
    print("- - - -"); sys.exit()
print(fmt(statistics.median(b for b, _ in pairs)), fmt(statistics.median(c for _, c in pairs)),
      f"{statistics.median(ratios):.2f}", ",".join(f"{r:.2f}" for r in ratios))' "$2")
  local b c r all; read -r b c r all <<<"$text"
  cmp_row "$1" "$b" "$c" "$r" "pairs $all"
}

# 1. Crypto wrapper overhead -----------------------------------------------------------------
if part crypto; then
echo "crypto: XChaCha20-Poly1305 4 KiB…" >&2
gcc -O2 Benchmarks/aead_c.c $(pkg-config --cflags --libs libsodium) -o "$work/aead_c"
# C and Swift alternate in 1-second rounds, each timed in its thread's CPU time, so that the
# host's drift from one second to the next falls on both alike; the ratio is the median of the
# rounds' ratios.
c_rates=(); swift_rates=()
for _ in 1 2 3 4 5 6 7 8 9; do
  c_rates+=("$("$work/aead_c" 1)")
  swift_rates+=("$("$BIN/vrm-bench" aead 1)")
done
read -r c_rate swift_rate aead_ratio <<<"$(python3 -c "
import statistics, sys
c = [float(x) for x in sys.argv[1].split()]; s = [float(x) for x in sys.argv[2].split()]
print(int(statistics.median(c)), int(statistics.median(s)), round(statistics.median(b / a for a, b in zip(c, s)) * 100))
" "${c_rates[*]}" "${swift_rates[*]}")"
[ -n "$aead_ratio" ] || { echo "the AEAD loops gave no figures" >&2; exit 1; }
row "AEAD 4 KiB enc+dec pairs per CPU-s: C (libsodium)" "$c_rate" ""
row "AEAD 4 KiB enc+dec pairs per CPU-s: VaultCrypto" "$swift_rate" "$aead_ratio% of C"

fi

# 2. Redemption throughput -------------------------------------------------------------------
if part throughput; then
echo "throughput: baseline and redemption alternating ($PAIRS pairs), wrk -t2 -c$CONNECTIONS -d${DURATION}s…" >&2
"$BIN/vrm-bench" share-vault "$work/share.db" "$work/pw" "$work"
base_port=$(free_port)
"$BIN/vrm-baseline" "$base_port" >/dev/null 2>&1 &
wait_port "$base_port" v1/share

# nginx serving a static 1 KiB file, for scale: the installed one or, without installing it (and
# so without starting its service), the binary from Debian's package unpacked into $work.
nginx_bin=$(command -v nginx || true)
if [ -z "$nginx_bin" ] && (cd "$work" && apt-get download nginx >/dev/null 2>&1) \
   && dpkg-deb -x "$work"/nginx_*.deb "$work/nginx-pkg" 2>/dev/null; then
  nginx_bin="$work/nginx-pkg/usr/sbin/nginx"
fi
if [ -n "$nginx_bin" ] && [ -x "$nginx_bin" ]; then
  nginx_port=$(free_port); mkdir -p "$work/nginx/v1"; head -c 1024 /dev/zero | tr '\0' x > "$work/nginx/v1/share"
  # Workers run as this user (the directive is ignored unless this is root), so they can read
  # the private work directory; every path nginx writes is in it.
  cat > "$work/nginx.conf" <<NGINX
user $(id -un); worker_processes 2; daemon off; pid $work/nginx.pid; error_log /dev/null;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $work/ngx-body; proxy_temp_path $work/ngx-proxy;
  fastcgi_temp_path $work/ngx-fastcgi; uwsgi_temp_path $work/ngx-uwsgi; scgi_temp_path $work/ngx-scgi;
  server { listen 127.0.0.1:$nginx_port; root $work/nginx; } }
NGINX
  "$nginx_bin" -e /dev/null -p "$work" -c "$work/nginx.conf" & nginx_pid=$!
  # A row for scale only: an nginx that does not start is left out, not a failed run.
  if port_ready "$nginx_port" v1/share; then
    read -r nginx_rps nginx_p99 _ _ <<<"$(run_wrk "$nginx_port" x)"
    row "nginx, static 1 KiB file: req/s (p99 ms)" "$nginx_rps" "$nginx_p99"
  else
    echo "nginx did not start; its row is left out" >&2
  fi
  kill -TERM "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""
fi

if [ -n "$BASELINE" ]; then
  # The baseline's server gets its own copy of the same vault (same grants and tokens), so the
  # two servers never share a file; both grow by the same runs, as the runs alternate. The copy
  # has the same vault id, so it also gets its own copy of the state directory: the CLI records
  # the newest audit entry it has seen per vault id, and the two histories part from here.
  sqlite3 "$work/share.db" ".backup '$work/share-base.db'"
  mkdir -p "$XDG_STATE_HOME"; cp -R "$XDG_STATE_HOME" "$work/state-base"
  base_serve_port=$(free_port)
  env -u VRM_PASSPHRASE_FILE XDG_STATE_HOME="$work/state-base" "$BASE_BIN/vrm" serve --vault "$work/share-base.db" --port "$base_serve_port" --max-failures 1000000000 2>/dev/null & base_serve_pid=$!
  wait_port "$base_serve_port" livez
fi
serve_port=$(free_port)
env -u VRM_PASSPHRASE_FILE "$BIN/vrm" serve --vault "$work/share.db" --port "$serve_port" --max-failures 1000000000 2>/dev/null & serve_pid=$!
wait_port "$serve_port" livez
share_bytes=$(curl -s -H @<(printf 'Authorization: Bearer %s\n' "$(cat "$work/bearer.token")") "http://127.0.0.1:$serve_port/v1/share" | wc -c)
# The host's speed drifts by tens of percent from minute to minute, so the baseline and the
# redemption run alternate, PAIRS times, and each pair gives a ratio; the table shows medians.
# With BASELINE, each pair also runs the baseline's `vrm serve`, before the current one in odd
# pairs and after it in even ones, so a steady drift falls on both alike.
pair_lines=(); old_lines=(); old_p99_lines=()
bearer_non2xx=0; bearer_total=0; old_non2xx=0; old_total=0
run_current() {
  read -r v_rps v_p99 v_non2xx v_total <<<"$(run_wrk "$serve_port" "$(cat "$work/bearer.token")")"
  bearer_non2xx=$((bearer_non2xx + v_non2xx)); bearer_total=$((bearer_total + v_total))
}
run_old() {
  read -r o_rps o_p99 o_non2xx o_total <<<"$(run_wrk "$base_serve_port" "$(cat "$work/bearer.token")")"
  old_non2xx=$((old_non2xx + o_non2xx)); old_total=$((old_total + o_total))
}
for i in $(seq "$PAIRS"); do
  read -r b_rps b_p99 _ _ <<<"$(run_wrk "$base_port" x)"
  if [ -z "$BASELINE" ]; then run_current
  elif [ $((i % 2)) -eq 1 ]; then run_old; run_current
  else run_current; run_old
  fi
  pair_lines+=("$b_rps $b_p99 $v_rps $v_p99")
  if [ -n "$BASELINE" ]; then old_lines+=("$o_rps $v_rps"); old_p99_lines+=("$o_p99 $v_p99"); fi
done
read -r base_rps base_p99 bearer_rps bearer_p99 ratio pairs_text <<<"$(printf '%s\n' "${pair_lines[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
med = lambda i: statistics.median(r[i] for r in rows)
ratios = [r[2] / r[0] * 100 for r in rows]
print(int(med(0)), f"{med(1):.2f}", int(med(2)), f"{med(3):.2f}", f"{statistics.median(ratios):.0f}%",
      ",".join(f"{x:.0f}%" for x in ratios))')"
[ -n "$ratio" ] || { echo "wrk gave no figures (a server did not answer)" >&2; exit 1; }
row "minimal Hummingbird, fixed 1 KiB body: req/s (p99 ms)" "$base_rps" "$base_p99"
row "GET /v1/share, bearer ($share_bytes B share): req/s (p99 ms)" "$bearer_rps" "$bearer_p99"
row "  redemption vs minimal Hummingbird (target ≥ 60%)" "$ratio" "pairs $pairs_text"
if [ -n "$BASELINE" ]; then
  compare "GET /v1/share, bearer: req/s" 0 < <(printf '%s\n' "${old_lines[@]}")
  compare "GET /v1/share, bearer: p99 ms" 2 < <(printf '%s\n' "${old_p99_lines[@]}")
  read -r old_key_rps old_key_p99 _ _ <<<"$(run_wrk "$base_serve_port" "$(cat "$work/key.token")")"
fi
read -r key_rps key_p99 _ _ <<<"$(run_wrk "$serve_port" "$(cat "$work/key.token")")"
row "GET /v1/share, key-bound (sealed): req/s (p99 ms)" "$key_rps" "$key_p99"
read -r deny_rps deny_p99 _ _ <<<"$(run_wrk "$serve_port" "vrm_not-a-valid-token")"
row "GET /v1/share, wrong token (401, audited): req/s (p99 ms)" "$deny_rps" "$deny_p99"
row "server peak RSS during the runs, MB (target ≤ 64)" "$(rss_mb "$serve_pid")" ""
if [ -n "$BASELINE" ]; then
  # One pair each (baseline first for the key-bound run, last for the wrong token).
  read -r old_deny_rps old_deny_p99 _ _ <<<"$(run_wrk "$base_serve_port" "vrm_not-a-valid-token")"
  compare "GET /v1/share, key-bound: req/s (one pair)" 0 <<<"$old_key_rps $key_rps"
  compare "GET /v1/share, wrong token (401): req/s (one pair)" 0 <<<"$old_deny_rps $deny_rps"
  cmp_row "server peak RSS, MB" "$(rss_mb "$base_serve_pid")" "$(rss_mb "$serve_pid")" "" ""
  kill -TERM "$base_serve_pid"; wait "$base_serve_pid" 2>/dev/null || true
  # The baseline audited every 200 it sent, read with its own CLI.
  old_grant=$(cat "$work/bearer.grant")
  old_uses=$(XDG_STATE_HOME="$work/state-base" VRM_PASSPHRASE_FILE="$work/pw" "$BASE_BIN/vrm" grant show "$old_grant" --vault "$work/share-base.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["use_count"])')
  old_entries=$(XDG_STATE_HOME="$work/state-base" VRM_PASSPHRASE_FILE="$work/pw" "$BASE_BIN/vrm" audit --vault "$work/share-base.db" --grant "$old_grant" --json | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["event"]=="share.redeemed"))')
  old_verify=$(XDG_STATE_HOME="$work/state-base" VRM_PASSPHRASE_FILE="$work/pw" "$BASE_BIN/vrm" audit verify --vault "$work/share-base.db" >/dev/null 2>&1 && echo ok || echo FAILED)
  old_ok200=$((old_total - old_non2xx))
  cmp_row "baseline: bearer 200s / redeem entries / use count" "" "" "" \
    "$old_ok200/$old_entries/$old_uses $([ "$old_entries" -ge "$old_ok200" ] && [ "$old_entries" -eq "$old_uses" ] && echo ok || echo MISMATCH), chain $old_verify"
fi
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true

# Every 200 is durably audited: the use count equals the redeem entries, which cover every 200.
grant=$(cat "$work/bearer.grant")
uses=$(VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" grant show "$grant" --vault "$work/share.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["use_count"])')
entries=$(VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" audit --vault "$work/share.db" --grant "$grant" --json | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["event"]=="share.redeemed"))')
ok200=$((bearer_total - bearer_non2xx + 1))   # + the one curl fetch that measured the share size
row "bearer 200s received / redeem entries / use count" "$ok200/$entries/$uses" "$([ "$entries" -ge "$ok200" ] && [ "$entries" -eq "$uses" ] && echo ok || echo MISMATCH)"

# SIGKILL mid-run: every 200 a client received must have its audit entry.
serve_port=$(free_port)
env -u VRM_PASSPHRASE_FILE "$BIN/vrm" serve --vault "$work/share.db" --port "$serve_port" --max-failures 1000000000 2>/dev/null & serve_pid=$!
wait_port "$serve_port" livez
before=$entries
TOKEN=$(cat "$work/bearer.token") wrk -t2 -c"$CONNECTIONS" -d4s -s Benchmarks/bearer.lua "http://127.0.0.1:$serve_port/v1/share" > "$work/kill.txt" 2>&1 &
wrk_pid=$!
sleep 2; kill -9 "$serve_pid"; wait "$wrk_pid" || true
kill_total=$(awk '/requests in/ {print $1}' "$work/kill.txt"); kill_non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/kill.txt"); kill_non2xx=${kill_non2xx:-0}
integrity=$(sqlite3 "$work/share.db" "PRAGMA integrity_check")
verify=$(VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" audit verify --vault "$work/share.db" >/dev/null 2>&1 && echo ok || echo FAILED)
after=$(VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" audit --vault "$work/share.db" --grant "$grant" --json | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["event"]=="share.redeemed"))')
uses=$(VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" grant show "$grant" --vault "$work/share.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["use_count"])')
received=$((kill_total - kill_non2xx))
row "SIGKILL mid-run: 200s received / new redeem entries / uses" "$received/$((after - before))/$uses" \
  "$([ $((after - before)) -ge "$received" ] && [ "$after" -eq "$uses" ] && [ "$integrity" = ok ] && [ "$verify" = ok ] && echo "ok, integrity $integrity, chain $verify" || echo "FAILED: integrity $integrity, chain $verify")"

fi

# 3. Personal-archive scale ------------------------------------------------------------------
if part large; then
echo "large vault: generating 100k purchases, 500 vendors, 2k cases, 10k grants, 100k audit entries…" >&2
gen_seconds=$("$BIN/vrm-bench" generate "$work/large.db" "$work/pw")
row "generate the large vault, s" "$gen_seconds" ""
kdf=$("$BIN/vrm-bench" kdf "$work/large.db")
row "KDF (Argon2id, interactive) per unlock, s — subtracted below" "$kdf" ""
export VRM_VAULT="$work/large.db" VRM_PASSPHRASE_FILE="$work/pw"
# cli LABEL SUBTRACT_KDF vrm-arguments… → cli_net (wall seconds, less the KDF when asked) and
# cli_rss (peak MB): three runs of the current `vrm`; with BASELINE, PAIRS alternating runs of
# the baseline's and the current `vrm` on the same vault (the baseline first in odd pairs), the
# current medians, and a comparison row.
cli() {
  local label=$1 subtract=$2; shift 2
  local k=0; [ "$subtract" = yes ] && k=$kdf
  local wall rss
  if [ -z "$BASELINE" ]; then
    read -r wall rss <<<"$(python3 Benchmarks/measure.py 3 -- "$BIN/vrm" "$@")"
    read -r cli_net cli_rss <<<"$(python3 -c "print(f'{max(0.0, $wall - $k):.3f}', $rss)")"
    return
  fi
  local lines=() i bw br cw cr
  for i in $(seq "$PAIRS"); do
    if [ $((i % 2)) -eq 1 ]; then
      read -r bw br <<<"$(python3 Benchmarks/measure.py 1 -- "$BASE_BIN/vrm" "$@")"
      read -r cw cr <<<"$(python3 Benchmarks/measure.py 1 -- "$BIN/vrm" "$@")"
    else
      read -r cw cr <<<"$(python3 Benchmarks/measure.py 1 -- "$BIN/vrm" "$@")"
      read -r bw br <<<"$(python3 Benchmarks/measure.py 1 -- "$BASE_BIN/vrm" "$@")"
    fi
    lines+=("$(python3 -c "print(f'{max(0.0, $bw - $k):.3f} {max(0.0, $cw - $k):.3f}', $br, $cr)")")
  done
  compare "$label, s" 3 < <(printf '%s\n' "${lines[@]}" | cut -d' ' -f1,2)
  read -r cli_net cli_rss <<<"$(printf '%s\n' "${lines[@]}" | python3 -c '
import statistics, sys
rows = [line.split() for line in sys.stdin if line.strip()]
print(f"{statistics.median(float(r[1]) for r in rows):.3f}", max(int(r[3]) for r in rows))')"
}
measure() { # label target_s subtract_kdf vrm-arguments…
  local label=$1 target=$2 subtract=$3; shift 3
  cli "$label" "$subtract" "$@"
  if [ "$subtract" = yes ]; then
    row "$label (target ≤ $target s) s / peak RSS MB" "$cli_net" "$cli_rss"
  else
    row "$label, no KDF (target ≤ $target s) s / peak RSS MB" "$cli_net" "$cli_rss"
  fi
}
measure "vrm purchase list --vendor X" 0.5 yes purchase list --vendor "Vendor 0042"
measure "vrm report vendors" 0.5 yes report vendors
measure "vrm audit --vendor X" 1 yes audit --vendor "Vendor 0007"
measure "vrm audit verify" 1 yes audit verify
measure "vrm profile set address.shipping (1,000 grants)" 1 yes profile set address.shipping "7 Wombat Street, Shelbyville"
fi

# 4. The relay on PostgreSQL --------------------------------------------------------------------
if part relay; then
echo "relay: a throwaway PostgreSQL loaded with $RELAY_VAULTS vaults and $RELAY_GRANTS grants…" >&2
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
mkdir -p "$work/pg"; chmod 755 "$work"; [ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
pgport=$(free_port)
as_postgres "$pgbin/initdb" -D "$work/pg/data" -U vrm --auth=trust --no-sync >/dev/null
# Durable as in production: fsync and synchronous_commit on (the defaults); more memory than the
# default 128 MB so the million-row tables' indexes stay cached.
as_postgres setsid -f "$pgbin/postgres" -D "$work/pg/data" -k "$work/pg" -p "$pgport" -h 127.0.0.1 \
  -c shared_buffers=512MB -c max_connections=200 </dev/null >"$work/pg/log" 2>&1
for _ in $(seq 1 300); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pgport" -U vrm -d postgres && break; sleep 0.1; done
export VRM_RELAY_DATABASE_URL="postgres://vrm@127.0.0.1:$pgport/postgres?sslmode=disable"
psql_relay() { "$pgbin/psql" -h "$work/pg" -p "$pgport" -U vrm -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
"$BIN/vrm" relay invite >/dev/null   # runs the relay's migrations
# The load: vaults and grants written straight into the relay's schema by PostgreSQL itself
# (generate_series), with shares of random bytes the size of a real bearer share, 10 % of
# grants revoked (no share) and a third with use limits: what enrolment and pushes would leave.
share_len=${share_bytes:-900}; [ "$share_len" -le 2048 ] || share_len=2048
load_start=$(date +%s.%N)
psql_relay <<SQL
CREATE EXTENSION IF NOT EXISTS pgcrypto;
INSERT INTO relay_vaults (id, sign_key, box_key, enrolled_at, tip_seq, tip_hash)
  SELECT gen_random_bytes(16), gen_random_bytes(32), gen_random_bytes(32), 0, 0, gen_random_bytes(32)
  FROM generate_series(1, $RELAY_VAULTS);
CREATE TEMP TABLE v AS SELECT id, row_number() OVER () AS n FROM relay_vaults;
INSERT INTO relay_grants (selector, vault_id, id, secret_hash, binding, expires_at, max_uses, use_count, revoked_at,
    share_version, share_body, binds_policy)
  SELECT gen_random_bytes(16), v.id, 'gr_' || g, gen_random_bytes(32), 'bearer', 4102444800000,
    CASE WHEN g % 3 = 0 THEN 100 END, 0, CASE WHEN g % 10 = 0 THEN 1 END, 1,
    CASE WHEN g % 10 = 0 THEN NULL ELSE substring(gen_random_bytes(1024) || gen_random_bytes(1024) FROM 1 FOR $share_len) END, true
  FROM generate_series(1, $RELAY_GRANTS) AS g JOIN v ON v.n = 1 + g % $RELAY_VAULTS;
ANALYZE;
SQL
load_s=$(python3 -c "import time; print(f'{time.time() - $load_start:.1f}')")
db_bytes=$(psql_relay -c "SELECT pg_database_size('postgres')")
row "relay: load $RELAY_VAULTS vaults, $RELAY_GRANTS grants (SQL bulk), s" "$load_s" ""
row "relay: database size per grant, bytes (share $share_len B)" "$((db_bytes / RELAY_GRANTS))" "$((db_bytes >> 20)) MiB in all"

# The benchmark vault, twice: served by `vrm serve` (share.db) and linked to the relay (a copy
# with its own state directory: a linked vault is served by the relay alone).
mkdir -p "$work/relay"; "$BIN/vrm-bench" share-vault "$work/relay-share.db" "$work/pw" "$work/relay"
sqlite3 "$work/relay-share.db" ".backup '$work/relay-linked.db'"
mkdir -p "$XDG_STATE_HOME"; cp -R "$XDG_STATE_HOME" "$work/state-relay"
relay_a=$(free_port); relay_b=$(free_port)
"$BIN/vrm" relay serve --port "$relay_a" --max-failures 1000000000 2>/dev/null & relay_a_pid=$!
"$BIN/vrm" relay serve --port "$relay_b" --max-failures 1000000000 2>/dev/null & relay_b_pid=$!
wait_port "$relay_a" livez; wait_port "$relay_b" livez
invite=$("$BIN/vrm" relay invite --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["invite"])')
XDG_STATE_HOME="$work/state-relay" VRM_PASSPHRASE_FILE="$work/pw" VRM_RELAY_INVITE="$invite" \
  "$BIN/vrm" relay link "http://127.0.0.1:$relay_a" --vault "$work/relay-linked.db" >/dev/null
local_port=$(free_port)
env -u VRM_PASSPHRASE_FILE "$BIN/vrm" serve --vault "$work/relay-share.db" --port "$local_port" --max-failures 1000000000 2>/dev/null & local_pid=$!
wait_port "$local_port" livez
token=$(cat "$work/relay/bearer.token")
# Two nodes: one wrk per node at once (half the connections each); req/s adds up, p99 is the larger.
run_two() {
  TOKEN="$token" wrk -t1 -c$((CONNECTIONS / 2)) -d"${DURATION}s" --latency -s Benchmarks/bearer.lua "http://127.0.0.1:$relay_a/v1/share" > "$work/two-a.txt" &
  local a=$!
  TOKEN="$token" wrk -t1 -c$((CONNECTIONS / 2)) -d"${DURATION}s" --latency -s Benchmarks/bearer.lua "http://127.0.0.1:$relay_b/v1/share" > "$work/two-b.txt"
  wait "$a"
  python3 - "$work/two-a.txt" "$work/two-b.txt" <<'PY'
import re, sys
rps = p99 = 0.0
for path in sys.argv[1:]:
    text = open(path).read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    p99 = max(p99, float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)])
print(f"{rps:.0f} {p99:.2f}")
PY
}
relay_lines=()
for i in $(seq "$PAIRS"); do
  read -r l_rps l_p99 _ _ <<<"$(run_wrk "$local_port" "$token")"
  read -r r_rps r_p99 _ _ <<<"$(run_wrk "$relay_a" "$token")"
  read -r t_rps t_p99 <<<"$(run_two)"
  relay_lines+=("$l_rps $l_p99 $r_rps $r_p99 $t_rps $t_p99")
  echo "  pair $i: vrm serve $l_rps req/s (p99 $l_p99 ms), relay 1 node $r_rps ($r_p99), 2 nodes $t_rps ($t_p99)" >&2
done
read -r med_l med_lp med_r med_rp med_t med_tp ratio_r ratio_t <<<"$(printf '%s\n' "${relay_lines[@]}" | python3 -c '
import statistics, sys
rows = [[float(x) for x in line.split()] for line in sys.stdin if line.strip()]
med = lambda i: statistics.median(r[i] for r in rows)
print(f"{med(0):.0f} {med(1):.2f} {med(2):.0f} {med(3):.2f} {med(4):.0f} {med(5):.2f}",
      f"{statistics.median(r[2] / r[0] for r in rows):.2f} {statistics.median(r[4] / r[0] for r in rows):.2f}")')"
row "vrm serve (same vault, alternating): req/s (p99 ms)" "$med_l" "$med_lp"
row "relay, 1 node: req/s (p99 ms; target ≤ 20)" "$med_r" "$med_rp"
row "relay, 1 node / vrm serve (target ≥ 0.50)" "$ratio_r" ""
row "relay, 2 nodes: req/s (p99 ms; target ≤ 20)" "$med_t" "$med_tp"
row "relay, 2 nodes / vrm serve" "$ratio_t" ""
row "relay node peak RSS MB after the runs (target ≤ 128)" "$(rss_mb "$relay_a_pid") / $(rss_mb "$relay_b_pid")" ""
kill -TERM "$local_pid" 2>/dev/null; wait "$local_pid" 2>/dev/null || true

# Every 200 the relay gave is in the vault's history after a sync, and the chain verifies.
sync_start=$(date +%s.%N)
XDG_STATE_HOME="$work/state-relay" VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" relay sync --vault "$work/relay-linked.db" >/dev/null
sync_s=$(python3 -c "import time; print(f'{time.time() - $sync_start:.1f}')")
# Event kinds are in the clear: counted with sqlite3 (a --json audit of millions of entries is large).
synced=$(sqlite3 "$work/relay-linked.db" "SELECT count(*) FROM audit WHERE event = 'share.redeemed'")
relay_uses=$(XDG_STATE_HOME="$work/state-relay" VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" grant show "$(cat "$work/relay/bearer.grant")" --vault "$work/relay-linked.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["use_count"])')
verify=$(XDG_STATE_HOME="$work/state-relay" VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" audit verify --vault "$work/relay-linked.db" >/dev/null 2>&1 && echo ok || echo FAILED)
row "relay sync: redeem entries pulled / bearer use count" "$synced/$relay_uses" "$sync_s s, chain $verify"

# A profile change that re-materialises 1,000 grants and pushes them to the relay.
VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" init --vault "$work/push.db" >/dev/null
VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" profile set email jo@example.org --vault "$work/push.db" >/dev/null
"$BIN/vrm-bench" grants "$work/push.db" "$work/pw" 1000 >/dev/null
invite=$("$BIN/vrm" relay invite --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["invite"])')
VRM_PASSPHRASE_FILE="$work/pw" VRM_RELAY_INVITE="$invite" "$BIN/vrm" relay link "http://127.0.0.1:$relay_a" --vault "$work/push.db" >/dev/null
# A new value each run (the same value again changes nothing and pushes nothing).
read -r push_s push_rss <<<"$(VRM_PASSPHRASE_FILE="$work/pw" python3 Benchmarks/measure.py 3 -- bash -c \
  "\"\$0\" profile set email \"jo+\$(date +%N)@example.org\" --vault \"\$1\"" "$BIN/vrm" "$work/push.db")"
pushed_version=$(VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" grant list --json --vault "$work/push.db" | python3 -c 'import json,sys; print(min(g["share_version"] for g in json.load(sys.stdin)))')
queued=$(VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" relay status --json --vault "$work/push.db" | python3 -c 'import json,sys; print(json.load(sys.stdin)["queued"])')
row "profile set, 1,000 grants re-materialised + pushed, with KDF (target ≤ 2 s) s / RSS MB" "$push_s" "$push_rss MB, queued after: $queued, every share at v$pushed_version"
kill -TERM "$relay_a_pid" "$relay_b_pid" 2>/dev/null; wait "$relay_a_pid" "$relay_b_pid" 2>/dev/null || true
fi

# 5. Everyday use: imports of real exports, and commands in a `vrm unlock` session ----------------
if part everyday; then
echo "everyday: a 10,000-transaction OFX statement and a 10,000-line Amazon order history…" >&2
every="$work/everyday"; mkdir -p "$every/run"; chmod 700 "$every/run"
export XDG_RUNTIME_DIR="$every/run"
python3 - "$every" <<'PY'
import random, sys
out = sys.argv[1]
random.seed(20)
payees = [f"Shop {i:03d}" for i in range(300)]
lines = ["OFXHEADER:100", "DATA:OFXSGML", "VERSION:102", "ENCODING:USASCII", "CHARSET:1252", "", "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR<BANKTRANLIST>"]
for i in range(10000):
    lines.append(f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>2025{1 + i % 12:02d}{1 + i % 28:02d}120000<TRNAMT>-{random.randint(100, 99999) / 100:.2f}"
                 f"<FITID>T{i:06d}<NAME>{random.choice(payees)}<MEMO>Card payment {i}</STMTTRN>")
lines.append("</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>")
open(f"{out}/statement.ofx", "w").write("\r\n".join(lines))
cols = ["Website", "Order ID", "Order Date", "Purchase Order Number", "Currency", "Unit Price", "Unit Price Tax", "Shipping Charge",
        "Total Discounts", "Total Owed", "Shipment Item Subtotal", "Shipment Item Subtotal Tax", "ASIN", "Product Condition", "Quantity",
        "Payment Instrument Type", "Order Status", "Shipment Status", "Ship Date", "Shipping Option", "Shipping Address", "Billing Address",
        "Carrier Name & Tracking Number", "Product Name", "Gift Message", "Gift Sender Name", "Gift Recipient Contact Details", "Item Serial Number"]
rows = [",".join(f'"{c}"' for c in cols)]
for i in range(10000):
    price = random.randint(100, 49999) / 100
    rows.append(",".join(f'"{v}"' for v in ["Amazon.com", f"112-{i:07d}-0000000", f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z", "Not Applicable", "USD",
        f"{price:.2f}", "0", "0", "0", f"{price:.2f}", f"{price:.2f}", "0", f"B0{i:08d}", "New", "1", "Visa - 1234", "Closed", "Shipped",
        "2024-01-02T10:00:00Z", "standard", "Jo Example\n1 Main St", "Not Available", "UPS(1Z)", f"Product number {i}, blue",
        "Not Available", "Not Available", "Not Available", "Not Available"]))
open(f"{out}/Retail.OrderHistory.1.csv", "w").write("\r\n".join(rows) + "\r\n")
PY
everyday_vault="$every/vault.db"
VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" init --vault "$everyday_vault" --allow-weak >/dev/null
imp() { VRM_PASSPHRASE_FILE="$work/pw" python3 Benchmarks/measure.py 1 -- "$BIN/vrm" purchase import --vault "$everyday_vault" "$@"; }
read -r ofx_s ofx_rss <<<"$(imp "$every/statement.ofx" --preset ofx --create-vendors)"
read -r ofx_again _ <<<"$(imp "$every/statement.ofx" --preset ofx --create-vendors)"
read -r amz_s amz_rss <<<"$(imp "$every/Retail.OrderHistory.1.csv" --preset amazon --create-vendors)"
read -r amz_again _ <<<"$(imp "$every/Retail.OrderHistory.1.csv" --preset amazon --create-vendors)"
count=$(VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" purchase list --json --vault "$everyday_vault" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
row "import 10,000-transaction OFX, with KDF: s / peak RSS MB" "$ofx_s" "$ofx_rss MB; again: $ofx_again s"
row "import 10,000-line Amazon history, with KDF: s / peak RSS MB" "$amz_s" "$amz_rss MB; again: $amz_again s"
row "purchases in the vault after importing both twice" "$count" "(20,000 expected)"
# The same command with the passphrase (the KDF every time) and in a session (no KDF).
session=$(VRM_PASSPHRASE_FILE="$work/pw" "$BIN/vrm" unlock --raw --vault "$everyday_vault")
read -r with_pw _ <<<"$(VRM_PASSPHRASE_FILE="$work/pw" python3 Benchmarks/measure.py 5 -- "$BIN/vrm" vendor list --vault "$everyday_vault")"
read -r with_session _ <<<"$(VRM_SESSION="$session" python3 Benchmarks/measure.py 5 -- "$BIN/vrm" vendor list --vault "$everyday_vault")"
row "vrm vendor list (301 vendors): passphrase s / session s" "$with_pw" "$with_session"
VRM_SESSION="$session" "$BIN/vrm" lock >/dev/null
unset XDG_RUNTIME_DIR
fi

# ---------------------------------------------------------------------------------------------
echo
echo "VRM Vault benchmarks — $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(swift --version 2>/dev/null | head -n1 | sed 's/ (.*//')"
printf '%-58s %14s %12s\n' "measure" "value" "ratio / extra"
printf '%s\n' "${rows[@]}"
if [ -n "$BASELINE" ]; then
  echo
  echo "Baseline $base_label vs current $cur_label: alternating runs in one run, medians of $PAIRS pairs;"
  echo "ratio = current / baseline, the median of the pairs' ratios (CLI times less the KDF; audit verify needs the passphrase since format 2)"
  printf '%-58s %10s %10s %7s  %s\n' "measure" "baseline" "current" "ratio" "each pair"
  printf '%s\n' "${cmp_rows[@]}"
fi
