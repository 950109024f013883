set -euo pipefail
export VRM_VAULT=$PWD/vault-format1.db XDG_STATE_HOME=$PWD/state HOME=$PWD
printf 'fixture passphrase one' > pw; chmod 600 pw
export VRM_PASSPHRASE_FILE=$PWD/pw
V=./vrm-format1
$V init --kdf interactive
$V profile set email ana@example.org
$V profile set name "Ana Example"
$V profile set address.shipping "1 Main St, Springfield"
$V vendor-key generate --out acme.key > acme.pub
$V vendor add "Acme Outdoor" --site https://acme.example --contact help@acme.example --public-key "$(grep -o 'vrmpk1_[A-Za-z0-9_-]*' acme.pub | head -1)"
$V vendor add "Bolt Bikes"
$V vendor edit "Bolt Bikes" --notes "good service"
$V purchase add --vendor "Acme Outdoor" --item "Trail shoes" --date 2026-10-02 --price 129.90 --currency EUR --order A-1001
$V purchase add --vendor "Bolt Bikes" --item "Bike lamp" --date 2026-09-01 --price 39.00 --currency EUR --gift-for "Sam"
P=$($V purchase list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([p["id"] for p in (d if isinstance(d,list) else d["purchases"]) if p["item"]=="Trail shoes"][0])')
$V purchase annotate "$P" --rating 4 --note "Half a size small" --tag running
$V case open --vendor "Bolt Bikes" --subject "Lamp flickers" --channel chat
$V case open --vendor "Acme Outdoor" --subject "Sole came off"
$V grant create --vendor "Acme Outdoor" --scope profile.email --scope purchases:own --scope cases:own --purpose warranty --expires never > grant-acme-key.txt
$V grant create --vendor "Bolt Bikes" --scope profile.address.* --scope purchases:own --purpose delivery --expires 3650d > grant-bolt-bearer.txt
$V grant create --vendor "Bolt Bikes" --scope profile --purpose marketing --max-uses 3 > grant-bolt-revoked.txt
$V grant list
