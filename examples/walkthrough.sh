#!/usr/bin/env bash
# The VRM Vault story with the commands a customer and a vendor would type.
# Run it from a checkout:   swift build && PATH="$PWD/.build/debug:$PATH" examples/walkthrough.sh
# Everything happens in a temporary directory; the server listens on 127.0.0.1 only and is
# stopped at the end (or on any failure). Exits non-zero if any step does not behave as shown.
set -euo pipefail

VRM=${VRM:-vrm}
work=$(mktemp -d "${TMPDIR:-/tmp}/vrm-walkthrough-XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { echo "walkthrough: FAILED: $*" >&2; exit 1; }

# The customer's vault and passphrase live in the temporary directory.
export VRM_VAULT="$work/vault.db" XDG_STATE_HOME="$work/state"
umask 077
head -c 24 /dev/urandom | base64 > "$work/passphrase"
export VRM_PASSPHRASE_FILE="$work/passphrase"

step "Create a vault"
$VRM init

step "Fill the profile"
$VRM profile set name "Jo Example"
$VRM profile set email jo@example.org
$VRM profile set address.shipping "12 Quokka Lane, Springfield"
$VRM profile set size.shoe "EU 42"
$VRM profile show

step "The vendor Bolt Bikes makes a key pair and sends its public key"
bolt_public=$($VRM vendor-key generate --out "$work/bolt.key")
echo "$bolt_public"

step "Register two vendors"
$VRM vendor add "Acme Outdoor" --site https://acme.example
$VRM vendor add "Bolt Bikes" --public-key "$bolt_public"
$VRM vendor stage "Acme Outdoor" exploration
$VRM vendor list

step "Grant Acme the shipping address for delivery, and Bolt the email and sizes for warranty"
$VRM grant create --vendor "Acme Outdoor" --scope 'profile.address.*' --scope profile.name --purpose delivery --expires 7d --token-only > "$work/acme.token"
$VRM grant create --vendor "Bolt Bikes" --scope profile.email --scope 'profile.size.*' --purpose warranty --max-uses 10 --token-only > "$work/bolt.token"
$VRM grant list

step "Start the vendor endpoint without any passphrase"
: > "$work/serve.log"  # exists before the server starts, so the first look at it cannot fail
env -u VRM_PASSPHRASE_FILE $VRM serve --port 0 2> "$work/serve.log" &
server_pid=$!
for _ in $(seq 1 100); do
  url=$(sed -n 's/^vrm serve: listening on \(http:[^ ]*\).*/\1/p' "$work/serve.log")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || fail "the server did not start: $(cat "$work/serve.log")"
echo "server at $url"

step "Acme fetches its share with curl (the token goes in the Authorization header, never the URL)"
curl -sS -D "$work/headers" -o "$work/acme.json" -H "Authorization: Bearer $(cat "$work/acme.token")" "$url/v1/share"
grep -q '^HTTP/1.1 200' "$work/headers" || fail "Acme's redemption was not 200"
grep -qi '^cache-control: no-store' "$work/headers" || fail "the share was not sent with no-store"
echo "200 OK, $(wc -c < "$work/acme.json") bytes of signed JSON"

step "Acme reads it with vrm redeem, which checks the vault's signature"
VRM_TOKEN=$(cat "$work/acme.token") $VRM redeem --url "$url" | tee "$work/acme.txt"
grep -q "12 Quokka Lane" "$work/acme.txt" || fail "Acme does not see the shipping address"
if grep -q "jo@example.org" "$work/acme.txt"; then fail "Acme sees the email it was not granted"; fi

step "Bolt opens its key-bound share with its own key"
$VRM redeem --url "$url" --token-file "$work/bolt.token" --key "$work/bolt.key" | tee "$work/bolt.txt"
grep -q "jo@example.org" "$work/bolt.txt" || fail "Bolt does not see the email"

step "The customer moves; Acme sees the new address on its next fetch"
$VRM profile set address.shipping "7 Wombat Street, Shelbyville"
VRM_TOKEN=$(cat "$work/acme.token") $VRM redeem --url "$url" | tee "$work/acme2.txt"
grep -q "7 Wombat Street" "$work/acme2.txt" || fail "Acme still sees the old address"

step "The customer revokes Bolt's grant; Bolt is refused at once"
bolt_grant=$($VRM grant list --vendor "Bolt Bikes" --json | sed -n 's/.*"id" : "\(gr_[a-z0-9]*\)".*/\1/p' | head -n 1)
$VRM grant revoke "$bolt_grant"
if $VRM redeem --url "$url" --token-file "$work/bolt.token" --key "$work/bolt.key" 2> "$work/refused.txt"; then
  fail "a revoked grant was still served"
fi
cat "$work/refused.txt"
grep -q "403 revoked" "$work/refused.txt" || fail "the refusal did not say revoked"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer vrm_made-up" "$url/v1/share")
[ "$status" = 401 ] || fail "a made-up token got $status"
echo "a made-up token gets $status"

step "Stop the server"
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

step "The share history, and its verification"
$VRM audit
$VRM audit verify
$VRM grant receipt "$bolt_grant" > "$work/receipt.json"
grep -q '"version" : "KI-CR-v1.1.0"' "$work/receipt.json" || fail "the receipt is not a consent receipt"
echo "consent receipt written ($(wc -c < "$work/receipt.json") bytes)"

step "Nothing personal is in the vault file"
for value in "Jo Example" jo@example.org Quokka Wombat "Acme Outdoor" "Bolt Bikes"; do
  if grep -qaF "$value" "$work/vault.db" "$work/vault.db-wal" 2>/dev/null; then fail "'$value' is readable in the vault file"; fi
done
echo "none of the profile values or vendor names appear in vault.db or its WAL"

printf '\nwalkthrough: all steps passed\n'
