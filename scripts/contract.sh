#!/usr/bin/env bash
# Contract tests: schemathesis (PyPI) against Specs/openapi.yaml and a live `vrm serve` holding
# real grants — valid bearer, valid key-bound, revoked, expired, used up — plus no token and a
# garbage token. Every check schemathesis has is on; any 5xx or any response that breaks the
# spec fails the run. Bounded: MAX_TIME seconds per token (default 15), 127.0.0.1 only.
#
#   scripts/contract.sh                 # uses the debug build (builds it if needed)
#   SEED=7 MAX_TIME=30 scripts/contract.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_TIME=${MAX_TIME:-15}
SEED=${SEED:-$RANDOM}
VENV=${VENV:-.build/contract-venv}

if [ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==4.32.5"
fi
swift build --product vrm >&2
VRM="$(swift build --show-bin-path)/vrm"

work=$(mktemp -d "${TMPDIR:-/tmp}/vrm-contract-XXXXXX")
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export VRM_VAULT="$work/vault.db" XDG_STATE_HOME="$work/state"
head -c 24 /dev/urandom | base64 > "$work/pw"
export VRM_PASSPHRASE_FILE="$work/pw"
$VRM init >/dev/null
$VRM profile set email jo@example.org >/dev/null
$VRM profile set address.shipping "1 Main St" >/dev/null
$VRM vendor add Acme >/dev/null
key=$($VRM vendor-key generate --out "$work/bolt.key" 2>/dev/null)
$VRM vendor add Bolt --public-key "$key" >/dev/null
$VRM purchase add --vendor Acme --item Tent --price 300 --currency EUR >/dev/null
grant() { $VRM grant create --vendor "$1" --purpose support --scope profile --scope purchases:own "${@:2}" --token-only; }
valid=$(grant Acme --expires never)
keyed=$(grant Bolt --expires never)
revoked=$(grant Acme); $VRM grant revoke "$($VRM grant list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')" >/dev/null
usedup=$(grant Acme --max-uses 1)
expired=$(grant Acme --expires "$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u VRM_PASSPHRASE_FILE $VRM serve --port "$port" --max-failures 1000000000 2> "$work/serve.log" & server=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/livez" && break; sleep 0.1; done
curl -s -o /dev/null -H "Authorization: Bearer $usedup" "http://127.0.0.1:$port/v1/share"   # use it up
sleep 3   # let the short grant expire

status=0
for name in valid keyed revoked usedup expired none garbage; do
  case $name in
    none) header=() ;;
    garbage) header=(-H "Authorization: Bearer vrm_garbage") ;;
    *) header=(-H "Authorization: Bearer ${!name}") ;;
  esac
  echo "== schemathesis with the $name token (seed $SEED)"
  if ! "$VENV/bin/schemathesis" run Specs/openapi.yaml --url "http://127.0.0.1:$port" "${header[@]}" \
      --checks all --max-time "$MAX_TIME" --seed "$SEED" --workers 2 --output-sanitize true --warnings off; then
    status=1
  fi
done
# Stop the server first: it writes its access log in blocks and flushes the last on shutdown.
kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=""
grep -q '"status":5' "$work/serve.log" && { echo "contract: the server answered 5xx:" >&2; grep '"status":5' "$work/serve.log" >&2; status=1; }
$VRM audit verify
exit $status
