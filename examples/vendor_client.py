#!/usr/bin/env python3
"""Install: pip install pynacl requests "joserfc>=1.6"

A vendor-side client for VRM Vault, written only against the wire format
(Specs/openapi.yaml): it does not use any code from this project.

    VRM_TOKEN=vrm_... python3 examples/vendor_client.py --url http://127.0.0.1:8080
    python3 examples/vendor_client.py --url https://vault.example --token-file token.txt \
        --key acme.key --vault-key BASE64 --json

What it does:
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

Exit codes: 0 share printed or not modified, 1 refused or failed, 2 usage error.
Standard library + PyNaCl + requests + joserfc only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import re
import stat
import sys
from urllib.parse import urlsplit

try:
    import requests
    from nacl.exceptions import CryptoError
    from nacl.public import PrivateKey, SealedBox
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


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("--url must be an http(s) URL such as http://127.0.0.1:8080")
    if parts.query or parts.fragment:
        raise UsageError("--url must be the server's base URL, without a query or fragment")
    if parts.scheme == "http":
        try:
            loopback = ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = parts.hostname == "localhost"
        if not loopback:
            note("warning: plain http to a non-loopback host sends the token and the data unencrypted; use https.")
    return url.rstrip("/") + "/v1/share"


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


def fetch_key_set(url: str, token: str, timeout: float) -> KeySet:
    """The vault's JWK Set from {url}/.well-known/jwks.json.

    The token goes along: a relay serving many vaults answers with the keys of the vault the
    token's grant belongs to (nothing is counted or audited); vrm serve ignores it."""
    try:
        response = requests.get(
            url.rstrip("/") + "/.well-known/jwks.json", headers={"Authorization": f"Bearer {token}"},
            timeout=(10, timeout), allow_redirects=False)
    except requests.RequestException as e:
        raise ClientError(f"cannot reach {url}: {type(e).__name__}") from None
    if response.status_code != 200:
        raise ClientError(f"no JWK Set at {url}/.well-known/jwks.json (HTTP {response.status_code})")
    try:
        return KeySet.import_key_set(response.json())
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
        key = key_set.get_by_kid(str(header.get("kid"))) if key_set is not None and header.get("kid") else None
        if key is None:
            raise ClientError("the share's kid is not in the vault's JWK Set")
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
        epilog="The token comes from --token-file, else $VRM_TOKEN (never needed on the command line).")
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


def run(args: argparse.Namespace) -> int:
    endpoint = check_url(args.url)
    pinned = parse_vault_key(args.vault_key) if args.vault_key else None
    key = load_vendor_secret_key(args.key) if args.key else None
    token = read_token(args)
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

    ptype, title = problem_of(response, body)
    kind = ptype[len(PROBLEM_PREFIX):] if ptype.startswith(PROBLEM_PREFIX) else ""
    print(f"vendor_client: refused ({status}): {ptype}", file=sys.stderr)
    print(f"  {title}", file=sys.stderr)
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
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
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
