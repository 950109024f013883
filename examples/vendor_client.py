#!/usr/bin/env python3
"""Install: pip install pynacl requests "joserfc>=1.6"

A vendor-side client for VRM Vault, written only against the wire format
(Specs/openapi.yaml, Specs/requests.md): it does not use any code from this project.

    # fetch a share (the default mode; no subcommand)
    VRM_TOKEN=vrm_... python3 examples/vendor_client.py --url http://127.0.0.1:8080
    python3 examples/vendor_client.py --url https://vault.example --token-file token.txt \
        --key acme.key --vault-key BASE64 --json

    # ask for access with the customer's request link, and wait up to an hour for the answer
    python3 examples/vendor_client.py vendor-key-generate --out acme.key   # once, or `vrm vendor-key generate`
    python3 examples/vendor_client.py ask --link 'vrm-request:https://vault.example?code=vrmq_...&vault=...&key=...' \
        --vendor "Acme Outdoor" --site https://acme.example --contact help@acme.example \
        --key acme.key --scope profile.email --scope purchases:own --purpose warranty \
        --expires-in 365d --notify-url https://acme.example/hooks/vrm --token-out token.txt --wait 3600
    # later, if it was still pending: look again (same --key and --token-out)
    python3 examples/vendor_client.py outcome --url https://vault.example --id rq_... \
        --key acme.key --token-out token.txt --wait 600

    # receive change notifications (Standard Webhooks) on 127.0.0.1:8787, and fetch on each
    python3 examples/vendor_client.py receive-webhooks --port 8787 --url https://vault.example \
        --vault-key BASE64 --token-file token.txt --key acme.key --events-out events.jsonl --fetch

What the default mode (fetching a share) does:
  1. GET {url}/v1/share with `Authorization: Bearer <token>`.
  2. 200 with `"format": "vrm-sealed-share/2"` (a key-bound grant): opens `sealed_share`
     with the vendor's X25519 secret key (`--key FILE`, the `vrmsk1_...` file written by
     `vrm vendor-key generate`) using libsodium's crypto_box_seal_open; inside is the
     signed share. A bearer grant's 200 (`application/jose+json`) is the signed share itself.
  3. The signed share is a JWS (RFC 7515, flattened JSON serialization, `alg` "Ed25519",
     RFC 8037/9864; `typ` "vrm-share+json"). It is verified with a stock JOSE library
     (joserfc), not by hand: against the pinned vault key (`--vault-key BASE64`, printed by
     `vrm grant create`), else against the key the vault's JWK Set
     ({url}/.well-known/jwks.json) lists under the JWS's `kid` (which shows the key, but
     only pinning proves it is the customer's). Then it parses the share document
     (`vrm-share-document/2`) and prints it (or prints it as JSON, `--json`).
     A share must carry the ETag of its version, be for `--grant` when given, name your key
     when key-bound (`vendor_key`), not be expired, and be no older than the newest version
     of that grant received before (kept, as `vrm redeem` keeps it, in
     $XDG_STATE_HOME/vrm/share-versions: Specs/share-envelope.md).
  4. 304: nothing changed since the ETag given with `--if-none-match`.
     401/403/429 and every other error: prints the RFC 9457 problem type and title on
     stderr and exits 1. A 403 revoked/expired means: stop using and delete the data.

The token is read from --token-file FILE (`-` for stdin), else $VRM_TOKEN. `--token` also
works but puts the token in the process list, so it prints a warning. The token is never
printed or logged.

`ask` (Specs/requests.md §1, §2, §4): reads a request link
`vrm-request:<endpoint>?code=vrmq_...&vault=<vault id, 32 hex>&key=<vault X25519 key>`
(`--link LINK`, or `--link-file FILE`, `-` for stdin) and prints the vault id and key, to
compare with what the customer shows you (`--vault-id HEX` refuses another vault). It builds
the request (your name, site and contact; your `vrmpk1_...` public key, derived from `--key`;
scopes, purpose, `--expires-in`, and optionally a use limit, the terms you proffer and a
`--notify-url` for change notifications), seals it to the vault's X25519 key
(crypto_box_seal), adds the transit MAC and the proof made from the code's secret (BLAKE2b-256;
the secret itself is never sent) and POSTs it to
{endpoint}/v1/requests. Everything is checked before: a link code admits one request only
(`--dry-run` checks and prints the request, and sends nothing).
Then GET {endpoint}/v1/requests/{id}: once, or every few seconds for up to `--wait SECONDS`.
`outcome` does only that second part, for a request sent before (`--url ENDPOINT --id rq_...`).
When the customer approved, the grant's token, sealed to your key, is opened and written to
`--token-out FILE` (created new, mode 0600; never printed), and the grant id and endpoint are
printed: fetch the share with the default mode, `--token-file FILE --key FILE`.

`receive-webhooks` (Specs/requests.md §5): listens on 127.0.0.1:PORT (`--port 0`: any free
port, printed) for POSTed change events, signed per Standard Webhooks v1 with the `v1a`
(Ed25519) scheme. The verification key is the vault's notification key, a JWK with
`"vrm_use": "notify"` at {url}/v1/notify-key (with the token if one is given; it is never in
the JWK Set, so it cannot pass for a share's signer); with `--vault-key` its
`vrm_certificate` (a compact JWS by the vault's share-signing key) is verified first, and a key
it does not certify is refused. `--notify-key BASE64URL` gives the key directly instead. A
delivery with a `webhook-timestamp` more than 5 minutes off gets 400, one without a valid `v1a`
signature 401, a valid one 204 (once per `webhook-id`: repeats get 204 and are not reported
again). Each new event is printed, and appended as a JSON line (the event plus `webhook_id`) to
`--events-out FILE` before the 204. `--fetch` then fetches the share of a `share.updated`
event's grant as the default mode does (each fetch counts a use of the grant).
`--max-events N` exits after N new events; `--fail-first N` answers 503 to the first N valid
deliveries (to see the sender retry).

`vendor-key-generate --out FILE` writes a new `vrmsk1_...` secret-key file (mode 0600, never
overwritten) and prints its `vrmpk1_...` public key, as `vrm vendor-key generate` does.

Exit codes:
  default mode: 0 share printed or not modified, 1 refused or failed, 2 usage error.
  ask, outcome: 0 approved and the token written, or (`ask` without --wait) the request sent
      and pending; 1 refused, failed, denied or expired; 2 usage error; 3 still pending
      (`outcome` without --wait, or --wait ran out).
  receive-webhooks: 0 stopped after --max-events (or by Ctrl-C), 1 could not start (no
      trustworthy notification key, port in use) or a --fetch failed, 2 usage error.
  vendor-key-generate: 0 written, 1 failed, 2 usage error.
Standard library + PyNaCl + requests + joserfc only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import hashlib
import hmac
import http.server
import ipaddress
import json
import os
import re
import shlex
import stat
import sys
import time
import unicodedata
from urllib.parse import parse_qs, urlsplit

try:
    import requests
    from nacl.exceptions import BadSignatureError, CryptoError
    from nacl.public import PrivateKey, PublicKey, SealedBox
    from nacl.signing import VerifyKey
    from joserfc import jws
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet, OKPKey
except ImportError as missing:  # pragma: no cover - depends on the environment
    sys.exit(f"vendor_client: {missing.name} is missing: pip install pynacl requests 'joserfc>=1.6'")

SEALED_SHARE = "vrm-sealed-share/2"
SHARE_DOCUMENT = "vrm-share-document/2"
SHARE_TYP = "vrm-share+json"
ALGORITHMS = ["Ed25519", "EdDSA"]  # RFC 9864's name, and the older one some libraries still emit
PROBLEM_PREFIX = "urn:vrm-vault:problem:"

# The vendor secret-key file: "vrmsk1_" + base64url-no-padding(32-byte X25519 secret)
# + base64url-no-padding(first 4 bytes of BLAKE2b-256(domain || secret)).
SECRET_KEY_PREFIX = "vrmsk1_"
SECRET_KEY_DOMAIN = b"vrm-vendor-secret-key-v1"
# The public key the same way, which a key-bound share document names in `vendor_key`.
PUBLIC_KEY_PREFIX = "vrmpk1_"
PUBLIC_KEY_DOMAIN = b"vrm-vendor-public-key-v1"
KEY_BYTES = 32
KEY_CHARS = 43  # ceil(32 * 8 / 6)
CHECKSUM_BYTES = 4
CHECKSUM_CHARS = 6  # ceil(4 * 8 / 6)
BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")

MAX_RESPONSE_BYTES = 8 * 1024 * 1024
USER_AGENT = "vrm-vendor-client-py/1"

# Access requests (Specs/requests.md §1, §2, §4).
REQUEST_LINK_SCHEME = "vrm-request:"
REQUEST_CODE_PREFIX = "vrmq_"
REQUEST_CODE_BYTES = 32  # selector 16 ‖ secret 16
REQUEST_SELECTOR_BYTES = 16
REQUEST_MAC_DOMAIN = b"vrm-request-v1"
REQUEST_ID = re.compile(r"^rq_[A-Za-z0-9]{26}$")
MAX_REQUEST_JSON = 16 * 1024  # before sealing
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 10 * 365 * 86_400  # "at most 10 years" (3650 days, as `vrm` counts a year)
MAX_SCOPES = 64
REQUEST_STATUSES = ("pending", "approved", "denied", "expired")
# Specs/grants.md §1, §2: the scopes and purposes a grant (so a request) may name.
FIXED_SCOPES = ("profile", "vendor", "vendor.notes", "purchases:own", "purchases:all", "purchases.annotations", "cases:own")
PROFILE_KEY = re.compile(r"^[a-z0-9._-]{1,64}$")
PURPOSES = ("service-provision", "delivery", "warranty", "support", "personalisation", "marketing", "research",
            "legal-compliance")

# Change notifications (Specs/requests.md §5; Standard Webhooks v1, scheme v1a = Ed25519).
NOTIFY_USE = "notify"
NOTIFY_CERTIFICATE_TYP = "vrm-notify-key+jwt"
WEBHOOK_TOLERANCE = 5 * 60  # seconds a webhook-timestamp may be off
MAX_WEBHOOK_BODY = 64 * 1024
JWKS_REFRESH_INTERVAL = 60.0  # at most one JWK Set refetch a minute, after a signature failed


class ClientError(Exception):
    """A failure to report on stderr (exit status 1)."""


class UsageError(Exception):
    """A command-line mistake (exit status 2)."""


def note(message: str) -> None:
    print(f"vendor_client: {message}", file=sys.stderr)


# --- inputs -------------------------------------------------------------------------------


def read_token(args: argparse.Namespace) -> str:
    raw = None
    if args.token_file:
        try:
            if args.token_file == "-":
                raw = sys.stdin.read(4096)
            else:
                with open(args.token_file, "r", encoding="utf-8") as f:
                    raw = f.read(4096)
        except OSError as e:
            raise ClientError(f"cannot read the token file {args.token_file}: {e.strerror}") from None
    elif os.environ.get("VRM_TOKEN"):
        raw = os.environ["VRM_TOKEN"]
    elif args.token:
        note("warning: --token puts the token in the process list; prefer --token-file or VRM_TOKEN.")
        raw = args.token
    token = (raw or "").strip()
    if not token:
        raise UsageError("no token: use --token-file FILE, or set VRM_TOKEN")
    if any(c.isspace() or not c.isprintable() for c in token):
        raise UsageError("the token contains spaces or control characters")
    return token


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    """Unpadded RFC 4648 base64url, strictly: only the url-safe alphabet, no padding, and only
    the canonical form (unused trailing bits zero), so every key has exactly one text form."""
    if not BASE64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != text:
        raise ValueError("non-canonical base64url")
    return data


def public_key_text(public_key: bytes) -> str:
    """The `vrmpk1_...` text of a vendor public key (Specs/token-format.md)."""
    checksum = hashlib.blake2b(PUBLIC_KEY_DOMAIN + public_key, digest_size=32).digest()[:CHECKSUM_BYTES]
    return PUBLIC_KEY_PREFIX + b64url_encode(public_key) + b64url_encode(checksum)


def secret_key_text(secret: bytes) -> str:
    """The `vrmsk1_...` text of a vendor secret key: the content of its file, less the newline."""
    checksum = hashlib.blake2b(SECRET_KEY_DOMAIN + secret, digest_size=32).digest()[:CHECKSUM_BYTES]
    return SECRET_KEY_PREFIX + b64url_encode(secret) + b64url_encode(checksum)


def load_vendor_secret_key(path: str) -> PrivateKey:
    """Reads and checks a `vrmsk1_...` vendor secret-key file."""
    try:
        info = os.stat(path)
        with open(path, "rb") as f:
            raw = bytearray(f.read(1024))
    except OSError as e:
        raise ClientError(f"cannot read the vendor key file {path}: {e.strerror}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        note(f"warning: {path} is readable by other users; chmod 600 it.")
    secret = bytearray()
    try:
        text = bytes(raw).rstrip(b"\r\n ").decode("ascii", errors="strict")
        expected_len = len(SECRET_KEY_PREFIX) + KEY_CHARS + CHECKSUM_CHARS
        if not text.startswith(SECRET_KEY_PREFIX) or len(text) != expected_len:
            raise ValueError("wrong prefix or length")
        body = text[len(SECRET_KEY_PREFIX):]
        secret = bytearray(b64url_decode(body[:KEY_CHARS]))
        checksum = b64url_decode(body[KEY_CHARS:])
        if len(secret) != KEY_BYTES or len(checksum) != CHECKSUM_BYTES:
            raise ValueError("wrong payload size")
        expected = hashlib.blake2b(SECRET_KEY_DOMAIN + bytes(secret), digest_size=32).digest()[:CHECKSUM_BYTES]
        if not hmac.compare_digest(checksum, expected):
            raise ValueError("checksum mismatch")
        return PrivateKey(bytes(secret))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ClientError(
            f"{path} is not a vendor secret key file (expected one line vrmsk1_..., "
            "as written by `vrm vendor-key generate`; checksum and length are checked)") from None
    finally:
        # Best effort only: Python keeps other copies (PyNaCl's own bytes object).
        for buf in (raw, secret):
            for i in range(len(buf)):
                buf[i] = 0


def parse_vault_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise UsageError("--vault-key must be the vault's Ed25519 public key: 32 bytes in standard base64")
    return key


def is_loopback(hostname: str) -> bool:
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return hostname == "localhost"


def check_base_url(url: str, what: str = "--url") -> str:
    """An endpoint's base URL (http(s), no query or fragment), without a trailing slash."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} must be an http(s) URL such as http://127.0.0.1:8080")
    if parts.query or parts.fragment:
        raise UsageError(f"{what} must be the server's base URL, without a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        note("warning: plain http to a non-loopback host sends the token and the data unencrypted; use https.")
    return url.rstrip("/")


def check_url(url: str) -> str:
    return check_base_url(url) + "/v1/share"


# --- the wire format -------------------------------------------------------------------------


def b64_field(obj: dict, name: str) -> bytes:
    value = obj.get(name)
    if not isinstance(value, str):
        raise ClientError(f"malformed share: `{name}` is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ClientError(f"malformed share: `{name}` is not base64") from None


def json_object(data: bytes, what: str) -> dict:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ClientError(f"malformed {what}: not JSON") from None
    if not isinstance(obj, dict):
        raise ClientError(f"malformed {what}: not a JSON object")
    return obj


def open_sealed(envelope: dict, key: PrivateKey | None) -> dict:
    """vrm-sealed-share/2 -> the signed share (JWS) inside."""
    if key is None:
        raise UsageError("this grant is key-bound: pass --key FILE with the vendor secret key to open it")
    sealed = b64_field(envelope, "sealed_share")
    try:
        plain = SealedBox(key).decrypt(sealed)
    except CryptoError:
        raise ClientError("the sealed share does not open with this vendor key (wrong --key, or altered in transit)") from None
    signed = json_object(plain, "signed share")
    if "protected" not in signed:
        raise ClientError("malformed sealed share: the content is not a JWS")
    return signed


def fetch_notify_key(url: str, token: str | None, timeout: float) -> dict:
    """The vault's notification key (a JWK with "vrm_use": "notify") from {url}/v1/notify-key."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(url.rstrip("/") + "/v1/notify-key", headers=headers, timeout=(10, timeout), allow_redirects=False)
    except requests.RequestException as e:
        raise ClientError(f"cannot reach {url}: {type(e).__name__}") from None
    if response.status_code == 404:
        raise ClientError("the vault has no notification key (no grant of it has a webhook): it sends no change notifications")
    if response.status_code != 200:
        raise ClientError(f"no notification key at {url}/v1/notify-key (HTTP {response.status_code})")
    try:
        key = response.json()
    except ValueError:
        key = None
    if not isinstance(key, dict) or key.get("vrm_use") != NOTIFY_USE:
        raise ClientError(f"{url}/v1/notify-key did not answer a notification key")
    return key


def fetch_jwks(url: str, token: str | None, timeout: float) -> dict:
    """The vault's JWK Set from {url}/.well-known/jwks.json, as JSON.

    The token goes along: a relay serving many vaults answers with the keys of the vault the
    token's grant belongs to (nothing is counted or audited); vrm serve ignores it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(
            url.rstrip("/") + "/.well-known/jwks.json", headers=headers,
            timeout=(10, timeout), allow_redirects=False)
    except requests.RequestException as e:
        raise ClientError(f"cannot reach {url}: {type(e).__name__}") from None
    if response.status_code != 200:
        raise ClientError(f"no JWK Set at {url}/.well-known/jwks.json (HTTP {response.status_code})")
    try:
        jwks = response.json()
    except ValueError:
        jwks = None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ClientError("the vault's JWK Set is malformed")
    return jwks


def fetch_key_set(url: str, token: str, timeout: float) -> KeySet:
    """The vault's JWK Set (see fetch_jwks) as joserfc keys."""
    jwks = fetch_jwks(url, token, timeout)
    try:
        return KeySet.import_key_set(jwks)
    except (ValueError, JoseError):
        raise ClientError("the vault's JWK Set is malformed") from None


def verify_signed(signed: dict, pinned: bytes | None, key_set: KeySet | None) -> tuple[dict, bytes]:
    """JWS -> (share document, signer key). Verified by joserfc before anything is parsed."""
    try:
        header = json.loads(base64.urlsafe_b64decode(str(signed.get("protected", "")) + "=="))
    except (ValueError, binascii.Error):
        raise ClientError("malformed signed share: the JWS protected header is not JSON") from None
    if not isinstance(header, dict) or header.get("typ") != SHARE_TYP or header.get("alg") not in ALGORITHMS:
        raise ClientError(f"malformed signed share: not a {SHARE_TYP} JWS signed with Ed25519")
    if pinned is not None:
        key = OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(pinned)})
    else:
        try:
            key = key_set.get_by_kid(str(header.get("kid"))) if key_set is not None and header.get("kid") else None
        except JoseError:  # joserfc raises InvalidKeyIdError for a kid it does not have
            key = None
        if key is None:
            raise ClientError("the share's kid is not in the vault's JWK Set")
        # Shares are signed by the share-signing key: the entry without `vrm_use` (the
        # notification key, `"vrm_use": "notify"`, signs only change events).
        if key.as_dict(private=False).get("vrm_use") is not None:
            raise ClientError("the share's kid names a key the vault does not sign shares with (its notification key)")
    try:
        verified = jws.deserialize_json(signed, key, algorithms=ALGORITHMS)
    except JoseError:
        raise ClientError("the share's signature does not verify with the vault key: altered, or not signed by the vault") from None
    signer = b64url_decode(key.as_dict(private=False)["x"])
    doc = json_object(verified.payload, "share document")
    if doc.get("format") != SHARE_DOCUMENT:
        raise ClientError(f"unsupported share document format {doc.get('format')!r} (expected {SHARE_DOCUMENT})")
    return doc, signer


def read_body(response: requests.Response) -> bytes:
    body = bytearray()
    for chunk in response.iter_content(65536):
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise ClientError("the response is larger than this client accepts")
    return bytes(body)


def problem_of(response: requests.Response, body: bytes) -> tuple[str, str]:
    """(type, title) of an RFC 9457 problem response, with fallbacks for a bare error."""
    ptype, title = "", ""
    try:
        obj = json.loads(body)
        if isinstance(obj, dict):
            ptype = obj.get("type") if isinstance(obj.get("type"), str) else ""
            title = obj.get("title") if isinstance(obj.get("title"), str) else ""
    except (ValueError, UnicodeDecodeError):
        pass
    return ptype or "about:blank", title or (response.reason or f"HTTP {response.status_code}")


def print_refusal(response: requests.Response, body: bytes) -> str:
    """Prints an error answer's status, problem type and title on stderr; returns the problem
    kind (the part after urn:vrm-vault:problem:, or "")."""
    ptype, title = problem_of(response, body)
    print(f"vendor_client: refused ({response.status_code}): {ptype}", file=sys.stderr)
    print(f"  {title}", file=sys.stderr)
    return ptype[len(PROBLEM_PREFIX):] if ptype.startswith(PROBLEM_PREFIX) else ""


# --- output ------------------------------------------------------------------------------------


def print_share(doc: dict, signer: bytes, etag: str | None, key_bound: bool) -> None:
    vault = str(doc.get("vault_id", ""))
    print(f"Share {doc.get('grant_id')} version {doc.get('version')} from vault {vault[:12]}…")
    print(f"  signature: valid (vault key {base64.b64encode(signer).decode()})")
    print(f"  sealed to your key: {'yes' if key_bound else 'no (bearer grant)'}")
    terms = f", terms {doc['terms']}" if doc.get("terms") else ""
    print(f"  for:       {doc.get('vendor')}, purpose {doc.get('purpose')}{terms}")
    print(f"  scopes:    {', '.join(map(str, doc.get('scopes') or []))}")
    print(f"  issued:    {doc.get('issued_at')}; expires {doc.get('expires_at') or 'never'}")
    if etag:
        print(f"  etag:      {etag}  (send it with --if-none-match to poll cheaply)")
    data = doc.get("data") or {}
    profile = data.get("profile")
    if isinstance(profile, dict):
        print("  profile:")
        if not profile:
            print("    (no granted field is set)")
        for key in sorted(profile):
            print(f"    {key}: {profile[key]}")
    vendor = data.get("vendor")
    if isinstance(vendor, dict):
        extras = "".join(f", {k} {vendor[k]}" for k in ("site", "contact", "notes") if vendor.get(k))
        stage = f", stage {vendor['stage']}" if vendor.get("stage") else ""
        print(f"  your entry: {vendor.get('name')}{stage}{extras}")


# --- asking for access (Specs/requests.md §1, §2, §4) -------------------------------------------


class RequestLink:
    """A parsed `vrm-request:<endpoint>?code=vrmq_...&vault=<hex>&key=<b64url>` link."""

    def __init__(self, endpoint: str, code: str, selector: bytes, secret: bytes, vault_id: str, vault_key: bytes,
                 signing_key: bytes | None = None):
        self.endpoint, self.code, self.selector, self.secret = endpoint, code, selector, secret
        self.vault_id, self.vault_key, self.signing_key = vault_id, vault_key, signing_key


def parse_request_link(text: str) -> RequestLink:
    text = text.strip()
    if text[:len(REQUEST_LINK_SCHEME)].lower() != REQUEST_LINK_SCHEME:
        raise UsageError("a request link starts with vrm-request: (as `vrm request link` prints it)")
    endpoint, separator, query = text[len(REQUEST_LINK_SCHEME):].partition("?")
    if not separator:
        raise UsageError("the request link has no ?code=...&vault=...&key=... part")
    try:
        params = parse_qs(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise UsageError("the request link's query part is malformed") from None

    def one(name: str) -> str:
        values = params.get(name) or []
        if len(values) != 1:
            raise UsageError(f"the request link must carry exactly one {name}= parameter")
        return values[0]

    code, vault_id, key_text = one("code"), one("vault"), one("key")
    unknown = sorted(set(params) - {"code", "vault", "key", "sig"})
    if unknown:
        note(f"warning: the request link has parameters this client does not know ({', '.join(unknown)}); ignored.")
    endpoint = check_base_url(endpoint, "the request link's endpoint")
    secret = selector = b""
    if code.startswith(REQUEST_CODE_PREFIX):
        try:
            raw = b64url_decode(code[len(REQUEST_CODE_PREFIX):])
        except ValueError:
            raw = b""
        if len(raw) == REQUEST_CODE_BYTES:
            selector, secret = raw[:REQUEST_SELECTOR_BYTES], raw[REQUEST_SELECTOR_BYTES:]
    if not secret:
        raise UsageError("the request link's code is not a request code (vrmq_ and 43 base64url characters)")
    if not re.fullmatch(r"[0-9a-fA-F]{32}", vault_id):
        raise UsageError("the request link's vault is not a vault id (32 hex characters)")
    try:
        vault_key = b64url_decode(key_text)
    except ValueError:
        vault_key = b""
    if len(vault_key) != 32:
        raise UsageError("the request link's key is not an X25519 public key (32 bytes, base64url without padding)")
    # `sig`: the vault's share-signing key (Ed25519), to pin: shares are checked against it.
    signing_key = None
    if "sig" in params:
        try:
            signing_key = b64url_decode(one("sig"))
        except ValueError:
            signing_key = b""
        if len(signing_key) != 32:
            raise UsageError("the request link's sig is not an Ed25519 public key (32 bytes, base64url without padding)")
    return RequestLink(endpoint, code, selector, secret, vault_id.lower(), vault_key, signing_key)


def parse_expires_in(text: str) -> int:
    """Seconds (`86400`, `86400s`) or `vrm`'s durations (`45m`, `12h`, `30d`, `2w`, `1y`)."""
    t = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400, "y": 365 * 86_400}
    match = re.fullmatch(r"([0-9]{1,12})([smhdwy]?)", t)
    seconds = int(match.group(1)) * units[match.group(2) or "s"] if match else 0
    if not MIN_EXPIRES_IN <= seconds <= MAX_EXPIRES_IN:
        raise UsageError("--expires-in must be a duration from 60 seconds to 10 years: seconds (86400), or 45m, 12h, 30d, "
                         "2w, 1y (a request cannot ask for a grant that never expires)")
    return seconds


def check_scope(text: str) -> str:
    """A grant scope (Specs/grants.md §1), checked here: a request naming an unknown scope would
    only be shown to the customer as unreadable, and its one-use code would be spent."""
    t = text.strip(" \t")
    if t in FIXED_SCOPES:
        return t
    if t.startswith("profile."):
        key = t[len("profile."):]
        key = key[:-2] if key.endswith(".*") else key
        if PROFILE_KEY.fullmatch(key) and not key.startswith(".") and not key.endswith(".") and ".." not in key:
            return t
    raise UsageError(f"unknown scope {t[:70]!r}; valid scopes: profile, profile.KEY, profile.PREFIX.*, vendor, "
                     "vendor.notes, purchases:own, purchases:all, purchases.annotations, cases:own")


def check_text(value: str | None, what: str, limit: int = 200) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not 1 <= len(value) <= limit or any(unicodedata.category(c) == "Cc" for c in value):
        raise UsageError(f"{what} must be 1-{limit} characters without control characters")
    return value


def check_http_url(url: str, what: str, https_only: bool = False) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or parts.username is not None
            or len(url) > 2000 or any(c.isspace() or unicodedata.category(c) == "Cc" for c in url)):
        raise UsageError(f"{what} must be an absolute http(s) URL of at most 2000 characters, without a user or password")
    if https_only and parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(f"{what} must be https (plain http only to a loopback address)")
    return url


def build_request(args: argparse.Namespace, vendor_key: PrivateKey) -> bytes:
    """The request JSON of Specs/requests.md §2, UTF-8."""
    vendor = {"name": check_text(args.vendor, "--vendor")}
    if args.site is not None:
        vendor["site"] = check_text(args.site, "--site")
    if args.contact is not None:
        vendor["contact"] = check_text(args.contact, "--contact")
    scopes: list[str] = []
    for scope in args.scope:
        scope = check_scope(scope)
        if scope not in scopes:
            scopes.append(scope)
    if len(scopes) > MAX_SCOPES:
        raise UsageError(f"a request may name at most {MAX_SCOPES} scopes")
    if "purchases.annotations" in scopes and not {"purchases:own", "purchases:all"} & set(scopes):
        raise UsageError("purchases.annotations adds to purchases:own or purchases:all; ask for one of them too")
    request: dict = {
        "vendor": vendor,
        "vendor_key": public_key_text(bytes(vendor_key.public_key)),
        "scopes": scopes,
        "purpose": args.purpose,
        "expires_in": parse_expires_in(args.expires_in),
    }
    if args.max_uses is not None:
        if args.max_uses < 1:
            raise UsageError("--max-uses must be a positive whole number")
        request["max_uses"] = args.max_uses
    if args.terms_id is not None or args.terms_url is not None:
        terms = {}
        if args.terms_id is not None:
            terms["id"] = check_text(args.terms_id, "--terms-id")
        if args.terms_url is not None:
            terms["url"] = check_http_url(args.terms_url, "--terms-url")
        request["terms"] = terms
    if args.notify_url is not None:
        request["notify_url"] = check_http_url(args.notify_url, "--notify-url", https_only=True)
    plain = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(plain) > MAX_REQUEST_JSON:
        raise UsageError(f"the request is {len(plain)} bytes; at most {MAX_REQUEST_JSON} are accepted")
    return plain


def seal_request(plain: bytes, link: RequestLink) -> dict:
    """The POST /v1/requests body (Specs/requests.md §2). The code's secret never leaves this
    machine: the endpoint gets the selector and auth = BLAKE2b-256("vrm-request-auth-v1" ||
    secret); the request sealed to the vault's X25519 key; the transit MAC, keyed by auth, over
    "vrm-request-v1" || sealed (the endpoint checks it); and the proof, keyed by
    K = BLAKE2b-256(key=secret, "vrm-request-proof-key-v1"), over "vrm-request-proof-v1" ||
    sealed (only the customer's vault can check it: the endpoint cannot swap the request)."""
    sealed = SealedBox(PublicKey(link.vault_key)).encrypt(plain)
    auth = hashlib.blake2b(b"vrm-request-auth-v1" + link.secret, digest_size=32).digest()
    mac = hashlib.blake2b(REQUEST_MAC_DOMAIN + sealed, digest_size=32, key=auth).digest()
    proof_key = hashlib.blake2b(b"vrm-request-proof-key-v1", digest_size=32, key=link.secret).digest()
    proof = hashlib.blake2b(b"vrm-request-proof-v1" + sealed, digest_size=32, key=proof_key).digest()
    return {"selector": b64url_encode(link.selector), "auth": b64url_encode(auth), "sealed": b64url_encode(sealed),
            "mac": b64url_encode(mac), "proof": b64url_encode(proof)}


def check_new_file(path: str, what: str) -> None:
    """Refuses, before anything is sent, a file that exists or could not be created."""
    if path == "-":
        raise UsageError(f"{what} must be a file (the token is never printed)")
    if os.path.lexists(path):
        raise UsageError(f"{what} {path} exists; choose another name or remove it (it is never overwritten)")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {path}: cannot create a file in {directory}")


def write_new_file(path: str, text: str) -> None:
    """Writes text and a newline to a new file, mode 0600 (O_EXCL: never overwrites), synced."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise ClientError(f"cannot create {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise ClientError(f"cannot write {path}: {e.strerror}") from None


def request_hint(status: int, kind: str, response: requests.Response) -> None:
    if status == 403 and kind == "invalid-request-code":
        print("  The code is unknown, already used or expired (a link admits one request): ask the customer for a new link.",
              file=sys.stderr)
    elif status == 400 and kind == "invalid-body":
        print("  The endpoint refused the body: not what it takes (the sealed request holds at most 16 KiB), "
              "or its MAC did not match the code (altered in transit?).",
              file=sys.stderr)
    elif status == 413:
        print("  The request is too large.", file=sys.stderr)
    elif status == 404:
        print("  No such request at this endpoint (a wrong id, or one removed since).", file=sys.stderr)
    elif status == 429:
        retry = response.headers.get("Retry-After")
        print(f"  Retry after {retry} s." if retry else "  Retry later.", file=sys.stderr)


def get_outcome(endpoint: str, request_id: str, timeout: float) -> tuple[requests.Response, bytes]:
    try:
        response = requests.get(f"{endpoint}/v1/requests/{request_id}", timeout=(10, timeout), allow_redirects=False,
                                stream=True, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
        return response, read_body(response)
    except requests.RequestException as e:
        raise ClientError(f"cannot reach {endpoint}: {type(e).__name__}") from None


def take_token(answer: dict, key: PrivateKey, token_out: str, asked: str) -> tuple[str, str]:
    """An approved outcome: opens `token_sealed` with the vendor key and writes the token to
    token_out. Returns (grant id, the grant's endpoint: the answer's, else the one asked)."""
    grant_id, endpoint, sealed_text = answer.get("grant_id"), answer.get("endpoint"), answer.get("token_sealed")
    if not isinstance(grant_id, str) or not re.fullmatch(r"gr_[A-Za-z0-9_-]{1,64}", grant_id):
        raise ClientError("malformed outcome: an approved request without a grant id")
    try:
        endpoint = check_base_url(endpoint, "the approved grant's endpoint") if isinstance(endpoint, str) else asked
    except UsageError as e:  # the server's answer, not the user's input
        raise ClientError(f"malformed outcome: {e}") from None
    if not isinstance(sealed_text, str):
        raise ClientError("the request was approved, but its sealed token is no longer kept (7 days after the "
                          f"decision): ask the customer for a new grant for {grant_id}")
    try:
        sealed = b64url_decode(sealed_text)
    except ValueError:
        raise ClientError("malformed outcome: token_sealed is not base64url") from None
    try:
        raw = bytearray(SealedBox(key).decrypt(sealed))
    except CryptoError:
        raise ClientError("the sealed token does not open with this vendor key (wrong --key: the one whose public key "
                          "the request named?)") from None
    try:
        token = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        token = ""
    finally:
        for i in range(len(raw)):
            raw[i] = 0
    if not token or len(token) > 4096 or any(c.isspace() or not c.isprintable() for c in token):
        raise ClientError("the sealed token holds no token")
    write_new_file(token_out, token)
    del token
    return grant_id, endpoint


def self_command(arguments: list[str]) -> str:
    """A command line running this script again (for the user to copy; nothing secret in it)."""
    return " ".join(shlex.quote(a) for a in ["python3", sys.argv[0] or "vendor_client.py", *arguments])


def outcome_command(endpoint: str, request_id: str, args: argparse.Namespace) -> str:
    arguments = ["outcome", "--url", endpoint, "--id", request_id, "--key", args.key, "--token-out", args.token_out]
    if getattr(args, "vault_id", None):
        arguments += ["--vault-id", args.vault_id.strip().lower()]
    return self_command(arguments) + " [--wait SECONDS]"


def follow_outcome(endpoint: str, request_id: str, key: PrivateKey, args: argparse.Namespace, first_delay: float) -> int:
    """Polls GET /v1/requests/{id} for up to --wait seconds (once without it) and acts on the outcome:
    0 approved (the token written), 1 denied, expired or refused, 3 still pending."""
    deadline = time.monotonic() + max(args.wait, 0.0)
    delay, interval = first_delay, 2.0
    while True:
        if delay > 0:
            time.sleep(delay)
        try:
            response, body = get_outcome(endpoint, request_id, args.timeout)
        except ClientError as e:
            if deadline - time.monotonic() <= 0:
                raise
            delay = min(interval, max(deadline - time.monotonic(), 0.0)) or 1.0
            note(f"{e}; trying again in {delay:.0f} s")
            continue
        remaining = deadline - time.monotonic()
        if remaining > 0 and (response.status_code == 429 or response.status_code >= 500):
            retry = response.headers.get("Retry-After", "")
            delay = max(min(float(retry) if retry.isdigit() else min(interval * 2, 30.0), remaining), 1.0)
            note(f"the server answered {response.status_code}; trying again in {delay:.0f} s")
            continue
        if response.status_code != 200:
            if 300 <= response.status_code < 400:
                raise ClientError(f"the server answered {response.status_code} (a redirect); not followed")
            kind = print_refusal(response, body)
            request_hint(response.status_code, kind, response)
            return 1
        answer = json_object(body, "outcome")
        status = answer.get("status")
        if answer.get("id") != request_id or status not in REQUEST_STATUSES:
            raise ClientError(f"malformed outcome: not the status of {request_id} (status {str(status)[:40]!r})")
        decided = f" at {answer['decided_at']}" if isinstance(answer.get("decided_at"), str) else ""
        if status == "pending":
            if remaining > 0:
                delay = min(interval, remaining)
                interval = min(interval * 1.5, 30.0)
                continue
            print(f"Request {request_id} is pending: the customer has not decided yet.")
            print(f"  Look again: {outcome_command(endpoint, request_id, args)}")
            return 3
        if status == "denied":
            note(f"request {request_id} was denied{decided}.")
            return 1
        if status == "expired":
            note(f"request {request_id} expired: the customer did not decide in time. Ask for a new link if you still need the data.")
            return 1
        grant_id, grant_endpoint = take_token(answer, key, args.token_out, endpoint)
        print(f"Request {request_id} approved{decided}: grant {grant_id}")
        print(f"  endpoint: {grant_endpoint}")
        print(f"  token:    written to {args.token_out} (mode 0600; it is not shown anywhere else)")
        fetch = ["--url", grant_endpoint, "--token-file", args.token_out, "--key", args.key, "--grant", grant_id]
        if getattr(args, "vault_id", None):
            fetch += ["--vault-id", args.vault_id.strip().lower()]
        print(f"  fetch:    {self_command(fetch)}")
        return 0


def read_link(args: argparse.Namespace) -> str:
    if (args.link is None) == (args.link_file is None):
        raise UsageError("give the request link with --link LINK or --link-file FILE (one of them)")
    if args.link is not None:
        return args.link
    try:
        if args.link_file == "-":
            return sys.stdin.read(8192)
        with open(args.link_file, "r", encoding="utf-8") as f:
            return f.read(8192)
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read the link file {args.link_file}: {getattr(e, 'strerror', None) or e}") from None


def run_ask(args: argparse.Namespace) -> int:
    """`ask`: send an access request, then (with --wait) wait for its outcome."""
    link = parse_request_link(read_link(args))
    if args.vault_id is not None and args.vault_id.strip().lower() != link.vault_id:
        raise UsageError(f"the link is for vault {link.vault_id}, not --vault-id {args.vault_id.strip()}: refused")
    check_new_file(args.token_out, "--token-out")
    key = load_vendor_secret_key(args.key)
    plain = build_request(args, key)
    print(f"Asking vault {link.vault_id} at {link.endpoint}")
    print(f"  vault X25519 key: {b64url_encode(link.vault_key)}  (the request is sealed to it)")
    print(f"  your key:         {public_key_text(bytes(key.public_key))}")
    if link.signing_key:
        # Standard base64, as --vault-key takes it: pin it, and check every share against it.
        print(f"  vault signing key (pin it; --vault-key): {base64.b64encode(link.signing_key).decode()}")
    print("  Compare the vault id with the one the customer shows you (`vrm request link`, `vrm grant show`).")
    if args.dry_run:
        print(json.dumps(json.loads(plain), indent=2, ensure_ascii=False))
        return 0
    body = seal_request(plain, link)
    try:
        response = requests.post(f"{link.endpoint}/v1/requests", json=body, timeout=(10, args.timeout),
                                 allow_redirects=False, stream=True,
                                 headers={"Accept": "application/json", "User-Agent": USER_AGENT})
        answer_body = read_body(response)
    except requests.RequestException as e:
        raise ClientError(f"cannot reach {link.endpoint}: {type(e).__name__} (if the request arrived, the link's code "
                          "is spent)") from None
    if response.status_code != 201:
        if 300 <= response.status_code < 400:
            raise ClientError(f"the server answered {response.status_code} (a redirect); not followed")
        kind = print_refusal(response, answer_body)
        request_hint(response.status_code, kind, response)
        return 1
    answer = json_object(answer_body, "answer")
    request_id = answer.get("id")
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise ClientError("the endpoint accepted the request but its answer has no request id (rq_...)")
    print(f"Request {request_id} sent ({answer.get('status')}).")
    if args.wait <= 0:
        print(f"  Look for the outcome: {outcome_command(link.endpoint, request_id, args)}")
        return 0
    return follow_outcome(link.endpoint, request_id, key, args, first_delay=2.0)


def run_outcome(args: argparse.Namespace) -> int:
    """`outcome`: the outcome of a request sent before."""
    endpoint = check_base_url(args.url)
    if not REQUEST_ID.fullmatch(args.id):
        raise UsageError("--id must be a request id (rq_ and 26 letters and digits), as `ask` printed it")
    check_new_file(args.token_out, "--token-out")
    key = load_vendor_secret_key(args.key)
    return follow_outcome(endpoint, args.id, key, args, first_delay=0.0)


# --- change notifications (Specs/requests.md §5) -----------------------------------------------


class DeliveryRefused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def thumbprint(x: str) -> str:
    """The RFC 7638 thumbprint of an Ed25519 key given by its base64url `x` (joserfc computes it)."""
    return OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": x}).thumbprint()


def check_notify_entry(entry: dict, pinned: bytes | None) -> bytes:
    """A JWK Set entry with "vrm_use": "notify" -> its Ed25519 key, after checking, when the vault
    key is pinned, the `vrm_certificate` the vault's share-signing key made for it."""
    x_text = entry.get("x")
    if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519" or not isinstance(x_text, str):
        raise ClientError("the notification key in the vault's JWK Set is not an Ed25519 key")
    try:
        x = b64url_decode(x_text)
    except ValueError:
        x = b""
    if len(x) != 32:
        raise ClientError("the notification key in the vault's JWK Set is not an Ed25519 key")
    if entry.get("kid") != thumbprint(x_text):
        raise ClientError("the notification key's kid is not its RFC 7638 thumbprint")
    if pinned is None:
        return x
    certificate = entry.get("vrm_certificate")
    if not isinstance(certificate, str) or certificate.count(".") != 2:
        raise ClientError("the notification key has no vrm_certificate: nothing binds it to the pinned vault key")
    vault_key = OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(pinned)})
    try:
        header = json.loads(b64url_decode(certificate.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("typ") != NOTIFY_CERTIFICATE_TYP or header.get("alg") not in ALGORITHMS:
        raise ClientError(f"the notification key's certificate is not a {NOTIFY_CERTIFICATE_TYP} JWS signed with Ed25519")
    if header.get("kid") != vault_key.thumbprint():
        raise ClientError("the notification key's certificate is signed by another key than the pinned vault key")
    try:
        verified = jws.deserialize_compact(certificate, vault_key, algorithms=ALGORITHMS)
    except JoseError:
        raise ClientError("the notification key's certificate does not verify with the pinned vault key") from None
    statement = json_object(verified.payload, "notification key certificate")
    if statement.get("x") != x_text or statement.get("kid") != entry.get("kid"):
        raise ClientError("the notification key's certificate is for another key than the JWK Set lists")
    iat = statement.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise ClientError("the notification key's certificate has no issue time (iat)")
    return x


class NotifyKeys:
    """The Ed25519 keys change events are verified with: --notify-key, or the vault's
    notification key from {url}/v1/notify-key (refetched at most once a minute when a signature
    fails, so a new notification key is picked up)."""

    def __init__(self, fixed: bytes | None, url: str | None, token: str | None, pinned: bytes | None, timeout: float):
        self.url, self.token, self.pinned, self.timeout = url, token, pinned, timeout
        self.keys = [VerifyKey(fixed)] if fixed is not None else []
        self.fetched_at = 0.0

    def load(self) -> None:
        if self.url is None:
            return
        self.fetched_at = time.monotonic()
        entries = [fetch_notify_key(self.url, self.token, self.timeout)]
        keys, problems = [], []
        for entry in entries:
            try:
                keys.append(VerifyKey(check_notify_entry(entry, self.pinned)))
            except ClientError as e:
                problems.append(str(e))
        if not keys:
            raise ClientError("; ".join(problems) + ": refused")
        for problem in problems:
            note(f"warning: a notification key is ignored: {problem}")
        self.keys = keys

    def describe(self) -> str:
        return ", ".join(base64.b64encode(bytes(k)).decode() for k in self.keys)

    def _verify(self, message: bytes, signatures: list[bytes]) -> bool:
        for key in self.keys:
            for signature in signatures:
                try:
                    key.verify(message, signature)
                    return True
                except BadSignatureError:
                    pass
        return False

    def verify(self, message: bytes, signatures: list[bytes]) -> bool:
        if self._verify(message, signatures):
            return True
        if self.url is None or time.monotonic() - self.fetched_at < JWKS_REFRESH_INTERVAL:
            return False
        try:
            self.load()
        except ClientError as e:
            note(f"cannot refresh the notification key: {e}")
            return False
        return self._verify(message, signatures)


def verify_delivery(headers, body: bytes, keys: NotifyKeys, now: float) -> tuple[str, dict]:
    """A Standard Webhooks v1 delivery (scheme v1a, Ed25519) -> (webhook-id, event).
    Raises DeliveryRefused with the status to answer."""
    msg_id, timestamp, signature = (headers.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not msg_id or not timestamp or not signature:
        raise DeliveryRefused(400, "webhook-id, webhook-timestamp and webhook-signature are required")
    if not re.fullmatch(r"[!-~]{1,256}", msg_id):
        raise DeliveryRefused(400, "the webhook-id is not 1-256 printable ASCII characters")
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise DeliveryRefused(400, "the webhook-timestamp is not a whole number of seconds")
    if abs(now - int(timestamp)) > WEBHOOK_TOLERANCE:
        raise DeliveryRefused(400, "the webhook-timestamp is more than 5 minutes off (a replay, or a wrong clock)")
    signatures = []
    for entry in signature.split():
        version, comma, value = entry.partition(",")
        if version != "v1a" or not comma:
            continue  # other schemes (v1: HMAC) and versions are not ours to check
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 64:
            signatures.append(raw)
    if not signatures:
        raise DeliveryRefused(401, "no v1a (Ed25519) signature in webhook-signature")
    if not keys.verify(f"{msg_id}.{timestamp}.".encode("ascii") + body, signatures):
        raise DeliveryRefused(401, "the signature does not verify with the vault's notification key")
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        event = None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str) or not isinstance(event.get("data", {}), dict):
        raise DeliveryRefused(400, "the body is not an event (a JSON object with type and data)")
    return msg_id, event


class WebhookReceiver:
    """What the listener keeps: the keys, the webhook-ids seen, and the new events for the main loop."""

    def __init__(self, keys: NotifyKeys, events_out: str | None, fail_first: int):
        self.keys, self.events_out, self.fail_left = keys, events_out, fail_first
        self.seen: set[str] = set()
        self.new: list[tuple[str, dict]] = []
        self.count = 0
        if events_out and os.path.exists(events_out):
            try:
                with open(events_out, encoding="utf-8") as f:
                    for line in f:
                        try:
                            self.seen.add(str(json.loads(line)["webhook_id"]))
                        except (ValueError, KeyError, TypeError):
                            pass
            except OSError as e:
                raise ClientError(f"cannot read {events_out}: {e.strerror}") from None

    def deliver(self, headers, body: bytes) -> tuple[int, str]:
        try:
            msg_id, event = verify_delivery(headers, body, self.keys, time.time())
        except DeliveryRefused as e:
            note(f"refused a delivery ({e.status}): {e.reason}")
            return e.status, e.reason
        if msg_id in self.seen:
            return 204, ""  # delivered before: at least once means sometimes twice
        if self.fail_left > 0:
            self.fail_left -= 1
            note(f"answered 503 to {msg_id}, as --fail-first asks")
            return 503, "not now (--fail-first)"
        if self.events_out:
            try:
                with open(self.events_out, "a", encoding="utf-8") as f:
                    f.write(json.dumps({**event, "webhook_id": msg_id}, ensure_ascii=False, sort_keys=True) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as e:
                note(f"cannot append to {self.events_out}: {e.strerror}; answered 500 so the sender retries")
                return 500, "cannot record the event"
        self.seen.add(msg_id)
        self.new.append((msg_id, event))
        self.count += 1
        return 204, ""


class WebhookServer(http.server.HTTPServer):
    def handle_error(self, request, client_address) -> None:
        note(f"a delivery from {client_address[0]} broke off: {sys.exc_info()[0].__name__}")


class WebhookHandler(http.server.BaseHTTPRequestHandler):
    timeout = 30  # seconds a client may take to send its request

    def version_string(self) -> str:
        return USER_AGENT

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        if self.headers.get("Transfer-Encoding") or not re.fullmatch(r"[0-9]{1,9}", length):
            self.answer(411, "a Content-Length is required")
            return
        if int(length) > MAX_WEBHOOK_BODY:
            self.close_connection = True
            self.answer(413, "the body is too large")
            return
        body = self.rfile.read(int(length))
        if len(body) != int(length):  # the sender gave up mid-body
            self.close_connection = True
            return
        self.answer(*self.server.receiver.deliver(self.headers, body))

    def refuse_method(self) -> None:
        self.answer(405, "only POST")

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = refuse_method

    def answer(self, status: int, text: str) -> None:
        data = b"" if status == 204 or self.command == "HEAD" else (text + "\n").encode("utf-8")
        self.send_response(status)
        if status == 405:
            self.send_header("Allow", "POST")
        if data:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # the receiver notes what matters


def optional_token(args: argparse.Namespace) -> str | None:
    if args.token_file or os.environ.get("VRM_TOKEN") or args.token:
        return read_token(args)
    return None


def run_receive(args: argparse.Namespace) -> int:
    """`receive-webhooks`: listen for change events, verify, record, and optionally fetch."""
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be 0-65535")
    if args.max_events is not None and args.max_events < 1:
        raise UsageError("--max-events must be at least 1")
    if args.fail_first < 0:
        raise UsageError("--fail-first must not be negative")
    url = check_base_url(args.url) if args.url else None
    pinned = parse_vault_key(args.vault_key) if args.vault_key else None
    fixed = None
    if args.notify_key is not None:
        try:
            fixed = b64url_decode(args.notify_key.strip())
        except ValueError:
            fixed = b""
        if len(fixed) != 32:
            raise UsageError("--notify-key must be an Ed25519 public key: 32 bytes in base64url without padding (the JWK's x)")
    elif url is None:
        raise UsageError("give --url (the notification key is taken from the vault's JWK Set) or --notify-key")
    token = optional_token(args)
    if args.fetch:
        if url is None or token is None:
            raise UsageError("--fetch needs --url and the grant's token (--token-file FILE, or VRM_TOKEN)")
        if args.key:
            load_vendor_secret_key(args.key)  # checked now, not at the first event
    keys = NotifyKeys(fixed, url if fixed is None else None, token, pinned, args.timeout)
    keys.load()
    if fixed is None and pinned is None:
        note("warning: the notification key is taken from the JWK Set unchecked; pin the vault key (--vault-key) to "
             "check its certificate.")
    receiver = WebhookReceiver(keys, args.events_out, args.fail_first)
    try:
        server = WebhookServer(("127.0.0.1", args.port), WebhookHandler)
    except OSError as e:
        raise ClientError(f"cannot listen on 127.0.0.1:{args.port}: {e.strerror}") from None
    server.receiver = receiver
    print(f"Listening on http://127.0.0.1:{server.server_address[1]}/ for change notifications "
          f"(notification key {keys.describe()})", flush=True)
    failed = False
    try:
        while args.max_events is None or receiver.count < args.max_events:
            server.handle_request()
            events, receiver.new = receiver.new, []
            for msg_id, event in events:
                data = event.get("data") or {}
                print(f"{event['type']}: grant {data.get('grant_id')} version {data.get('share_version')} "
                      f"(webhook-id {msg_id})", flush=True)
                if not args.fetch or event["type"] != "share.updated" or not isinstance(data.get("grant_id"), str):
                    continue
                if args.grant is not None and data["grant_id"] != args.grant:
                    note(f"not fetching: {data['grant_id']} is not --grant {args.grant}")
                    continue
                fetch = argparse.Namespace(url=url, key=args.key, vault_key=args.vault_key, json=args.json, token_file=None,
                                           token=None, if_none_match=None, grant=data["grant_id"], vault_id=args.vault_id,
                                           state_dir=args.state_dir, timeout=args.timeout)
                try:
                    failed |= run(fetch, token=token) != 0
                except (ClientError, UsageError) as e:
                    note(str(e))
                    failed = True
                sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 1 if failed else 0


# --- vendor keys --------------------------------------------------------------------------------


def run_keygen(args: argparse.Namespace) -> int:
    """`vendor-key-generate`: a new X25519 key pair, as `vrm vendor-key generate` makes it."""
    check_new_file(args.out, "--out")
    key = PrivateKey.generate()
    write_new_file(args.out, secret_key_text(bytes(key)))
    print(public_key_text(bytes(key.public_key)))
    note(f"wrote the secret key to {args.out} (mode 0600); give the customer the vrmpk1_ public key above.")
    return 0


# --- main --------------------------------------------------------------------------------------


def default_state_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "vrm", "share-versions")


def accept_version(directory: str, vault_id: str, grant_id: str, version: object) -> None:
    """Refuses a share older than the newest received for this vault and grant, then records it.

    One file per vault and grant, named by BLAKE2b-128("vrm-share-version-v1" || vault id || 0 ||
    grant id) in hex, holding the version in decimal: the same records `vrm redeem` keeps.
    """
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ClientError("the share document's version is not a whole number")
    name = hashlib.blake2b(b"vrm-share-version-v1" + vault_id.encode() + b"\0" + grant_id.encode(), digest_size=16).hexdigest()
    path = os.path.join(directory, name)
    try:
        with open(path, encoding="utf-8") as f:
            newest = int(f.read().strip())
    except FileNotFoundError:
        newest = None
    except (OSError, ValueError):
        raise ClientError(f"the share-version record {path} is unreadable; remove it to accept the next share as new") from None
    if newest is not None and version < newest:
        raise ClientError(f"stale share: version {version} is older than version {newest} received before "
                          "(the vault was rolled back, or the answer replayed)")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
        f.write(f"{version}\n")
    os.replace(temporary, path)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="vendor_client.py",
        description="Redeem a VRM Vault share grant: fetch, open, verify and print the share.",
        epilog="The token comes from --token-file, else $VRM_TOKEN (never needed on the command line). "
               "Other modes, each with --help: ask, outcome, receive-webhooks, vendor-key-generate.")
    p.add_argument("--url", required=True, help="the vault server's base URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--key", metavar="FILE", help="vendor secret key file (vrmsk1_...), for key-bound grants")
    p.add_argument("--vault-key", metavar="BASE64", help="require the share to be signed by this vault Ed25519 key")
    p.add_argument("--json", action="store_true", help="print the share document as JSON")
    p.add_argument("--token-file", metavar="FILE", help="read the token from FILE (- for stdin)")
    p.add_argument("--token", help=argparse.SUPPRESS)  # accepted, with a warning
    p.add_argument("--if-none-match", metavar="ETAG", help='send If-None-Match (e.g. "v3"); 304 if unchanged')
    p.add_argument("--grant", metavar="ID", help="require the share to be for this grant id")
    p.add_argument("--vault-id", metavar="HEX", help="require the share to come from this vault (its id, on the grant card)")
    p.add_argument("--state-dir", metavar="DIR", help="where the newest version per grant is kept "
                   "(default $XDG_STATE_HOME/vrm/share-versions)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the server (default 30)")
    return p.parse_args(argv)


def common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the server (default 30)")


def parse_ask(argv: list[str], outcome_only: bool) -> argparse.Namespace:
    if outcome_only:
        p = argparse.ArgumentParser(
            prog="vendor_client.py outcome",
            description="Look up the outcome of an access request sent before (GET /v1/requests/{id}); "
                        "when approved, open the token sealed to your key and write it to --token-out.")
        p.add_argument("--url", required=True, help="the endpoint the request went to (the link's endpoint)")
        p.add_argument("--id", required=True, metavar="rq_...", help="the request id `ask` printed")
    else:
        p = argparse.ArgumentParser(
            prog="vendor_client.py ask",
            description="Ask a customer's vault for access with their request link (POST /v1/requests), "
                        "then (with --wait) wait for their answer.",
            epilog="Everything is checked before the request is sent: a link's code admits one request.")
        link = p.add_argument_group("the link")
        link.add_argument("--link", metavar="LINK", help="the request link: vrm-request:<endpoint>?code=...&vault=...&key=...")
        link.add_argument("--link-file", metavar="FILE", help="read the request link from FILE (- for stdin)")
        what = p.add_argument_group("what you ask for")
        what.add_argument("--vendor", required=True, metavar="NAME", help="your name, as the customer knows you (1-200 characters)")
        what.add_argument("--site", metavar="TEXT", help="your web site (1-200 characters)")
        what.add_argument("--contact", metavar="TEXT", help="how the customer reaches you, e.g. an e-mail address (1-200 characters)")
        what.add_argument("--scope", action="append", required=True, metavar="SCOPE",
                          help="a grant scope (repeatable): profile, profile.KEY, profile.PREFIX.*, vendor, vendor.notes, "
                               "purchases:own, purchases:all, purchases.annotations, cases:own")
        what.add_argument("--purpose", required=True, choices=PURPOSES, metavar="PURPOSE",
                          help=f"why you want the data: one of {', '.join(PURPOSES)}")
        what.add_argument("--expires-in", required=True, metavar="DURATION",
                          help="how long the grant is to last: seconds, or 45m, 12h, 30d, 2w, 1y (60 seconds to 10 years)")
        what.add_argument("--max-uses", type=int, metavar="N", help="a use limit to propose (default: none)")
        what.add_argument("--terms-id", metavar="ID", help="the identifier of terms you proffer (IEEE 7012; 1-200 characters)")
        what.add_argument("--terms-url", metavar="URL", help="where those terms can be read (either or both of --terms-id, --terms-url)")
        what.add_argument("--notify-url", metavar="URL",
                          help="where the vault is to POST change notifications (https; http only to loopback)")
        p.add_argument("--dry-run", action="store_true", help="check everything and print the request; send nothing")
    p.add_argument("--key", required=True, metavar="FILE",
                   help="your vendor secret key file (vrmsk1_..., `vrm vendor-key generate`): the grant is bound to it")
    p.add_argument("--token-out", required=True, metavar="FILE",
                   help="where to write the grant's token when approved (a new file, mode 0600)")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="poll for the outcome for up to SECONDS (default: look once)")
    p.add_argument("--vault-id", metavar="HEX", help="the vault id you expect (refuses a link for another vault)")
    common_options(p)
    return p.parse_args(argv)


def parse_receive(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="vendor_client.py receive-webhooks",
        description="Receive VRM Vault change notifications (Standard Webhooks v1, v1a = Ed25519) on 127.0.0.1:PORT.",
        epilog="The token (for the JWK Set at a relay, and for --fetch) comes from --token-file, else $VRM_TOKEN.")
    p.add_argument("--port", type=int, required=True, help="the port to listen on, on 127.0.0.1 (0: any free port, printed)")
    p.add_argument("--url", help="the vault server's base URL: its JWK Set gives the notification key; --fetch fetches there")
    p.add_argument("--vault-key", metavar="BASE64",
                   help="the pinned vault Ed25519 key: the notification key must carry its certificate (and shares its signature)")
    p.add_argument("--notify-key", metavar="BASE64URL", help="the notification Ed25519 key itself (the JWK's x), instead of the JWK Set")
    p.add_argument("--token-file", metavar="FILE", help="read the token from FILE (- for stdin)")
    p.add_argument("--token", help=argparse.SUPPRESS)  # accepted, with a warning
    p.add_argument("--events-out", metavar="FILE", help="append each new event to FILE as a JSON line (before answering 204)")
    p.add_argument("--max-events", type=int, metavar="N", help="exit after N new events")
    p.add_argument("--fail-first", type=int, default=0, metavar="N",
                   help="answer 503 to the first N valid deliveries (to see the sender retry)")
    fetch = p.add_argument_group("fetching on share.updated (--fetch; each fetch counts a use of the grant)")
    fetch.add_argument("--fetch", action="store_true", help="fetch the share of each share.updated event's grant")
    fetch.add_argument("--key", metavar="FILE", help="vendor secret key file (vrmsk1_...), for key-bound grants")
    fetch.add_argument("--grant", metavar="ID", help="fetch only for this grant id")
    fetch.add_argument("--vault-id", metavar="HEX", help="require the share to come from this vault")
    fetch.add_argument("--json", action="store_true", help="print the share document as JSON")
    fetch.add_argument("--state-dir", metavar="DIR", help="where the newest version per grant is kept")
    common_options(p)
    return p.parse_args(argv)


def parse_keygen(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="vendor_client.py vendor-key-generate",
        description="Make a vendor key pair: writes the vrmsk1_ secret key file and prints the vrmpk1_ public key.")
    p.add_argument("--out", required=True, metavar="FILE", help="the secret key file to create (mode 0600; never overwritten)")
    return p.parse_args(argv)


COMMANDS = {
    "ask": (lambda argv: parse_ask(argv, outcome_only=False), run_ask),
    "outcome": (lambda argv: parse_ask(argv, outcome_only=True), run_outcome),
    "receive-webhooks": (parse_receive, run_receive),
    "vendor-key-generate": (parse_keygen, run_keygen),
}


def run(args: argparse.Namespace, token: str | None = None) -> int:
    """The default mode: fetch, open, verify and print the share (token: as read before, by
    receive-webhooks --fetch; else read here)."""
    endpoint = check_url(args.url)
    pinned = parse_vault_key(args.vault_key) if args.vault_key else None
    key = load_vendor_secret_key(args.key) if args.key else None
    token = token if token is not None else read_token(args)
    # Before the share: a 200 counts a use, which must not be spent on a share that then
    # could not be verified for want of the key set.
    key_set = fetch_key_set(args.url, token, args.timeout) if pinned is None else None

    headers = {"Authorization": f"Bearer {token}", "Accept": "application/jose+json, application/json", "User-Agent": USER_AGENT}
    if args.if_none_match:
        headers["If-None-Match"] = args.if_none_match
    try:
        # No redirects: the bearer token must only ever go to the URL the vendor gave.
        response = requests.get(endpoint, headers=headers, timeout=(10, args.timeout),
                                allow_redirects=False, stream=True)
        body = read_body(response)
    except requests.RequestException as e:
        raise ClientError(f"cannot reach {args.url}: {type(e).__name__}") from None
    finally:
        del headers, token

    status = response.status_code
    etag = response.headers.get("ETag")
    if status == 200:
        envelope = json_object(body, "response")
        fmt = envelope.get("format")
        if fmt == SEALED_SHARE:
            signed = open_sealed(envelope, key)
        elif "protected" in envelope:
            signed = envelope
        elif fmt in ("vrm-signed-share/1", "vrm-sealed-share/1"):
            raise ClientError("a format-1 share from a vault not yet moved to format 2: the customer's next `vrm` command moves it")
        else:
            raise ClientError(f"the response is not a VRM share (format {fmt!r})")
        doc, signer = verify_signed(signed, pinned, key_set)
        if fmt == SEALED_SHARE and (envelope.get("grant_id") != doc.get("grant_id")
                                    or envelope.get("version") != doc.get("version")):
            raise ClientError("the sealed envelope's grant_id/version do not match the signed document inside")
        if etag is None:
            raise ClientError("the response has no ETag: not a share (Specs/share-envelope.md, step 1)")
        if etag != f'"v{doc.get("version")}"':
            raise ClientError("the ETag differs from the document's version")
        if args.grant is not None and doc.get("grant_id") != args.grant:
            raise ClientError("the share is for another grant than --grant")
        if args.vault_id is not None and doc.get("vault_id") != args.vault_id.lower():
            raise ClientError("the share is from another vault than --vault-id")
        # A key-bound share names, under the vault's signature, the key it was sealed to
        # (Specs/share-envelope.md, step 5); a bearer share names none.
        if fmt == SEALED_SHARE and doc.get("vendor_key") != public_key_text(bytes(key.public_key)):
            raise ClientError("the signed document does not name your vendor key: the share was made for another key")
        if fmt != SEALED_SHARE and doc.get("vendor_key") is not None:
            raise ClientError("a bearer share that names a vendor key: refused")
        expires = doc.get("expires_at")
        if expires is not None:
            try:
                ended = datetime.datetime.fromisoformat(str(expires).replace("Z", "+00:00")) <= datetime.datetime.now(datetime.timezone.utc)
            except ValueError:
                raise ClientError("the share's expires_at is not a date") from None
            if ended:
                raise ClientError(f"the share's grant expired at {expires}; the vault should not have served it")
        accept_version(args.state_dir or default_state_dir(), str(doc.get("vault_id")), str(doc.get("grant_id")), doc.get("version"))
        if args.json:
            print(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False))
        else:
            print_share(doc, signer, etag, key_bound=fmt == SEALED_SHARE)
        return 0
    if status == 304:
        current = etag or args.if_none_match
        print(f"Not modified: you hold the current version {current}." if current else "Not modified.")
        return 0
    if 300 <= status < 400:
        raise ClientError(f"the server answered {status} (a redirect); not followed, so the token stays with --url")

    kind = print_refusal(response, body)
    if status == 403 and kind in ("revoked", "expired"):
        print("  The customer's consent has ended: stop using this grant and delete the data you received under it.",
              file=sys.stderr)
    elif status == 403 and kind == "used-up":
        print("  The grant's use limit is reached: ask the customer for a new grant if you still need the data.",
              file=sys.stderr)
    elif status == 401:
        print("  Check the token (it is shown once when the grant is created); do not retry with guesses.", file=sys.stderr)
    elif status == 429:
        retry = response.headers.get("Retry-After")
        print(f"  Retry after {retry} s." if retry else "  Retry later.", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # A first word naming a mode selects it; anything else is the original command line (fetch).
    if argv and argv[0] in COMMANDS:
        parse, act = COMMANDS[argv[0]]
        args = parse(argv[1:])
    else:
        args, act = parse_args(argv), run
    try:
        return act(args)
    except UsageError as e:
        note(str(e))
        return 2
    except ClientError as e:
        note(str(e))
        return 1
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
