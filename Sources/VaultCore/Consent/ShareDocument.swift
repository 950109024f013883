import Foundation
public import VaultCrypto

/// The document a vendor receives: only the granted data plus grant metadata.
/// Field by field: `Specs/share-envelope.md`.
public struct ShareDocument: Codable, Sendable, Equatable {
    public static let format = "vrm-share-document/2"

    public var format: String
    public var vaultID: String
    public var grantID: String
    public var vendor: String
    public var purpose: String
    public var terms: String?
    public var scopes: [String]
    /// When this version was materialised.
    public var issuedAt: String
    public var expiresAt: String?
    public var version: Int
    /// Key-bound grants: the vendor key (`vrmpk1_…`) the share is sealed to, so the vendor can
    /// tell a share made for another key. Absent for bearer grants.
    public var vendorKey: String?
    public var data: ShareData

    enum CodingKeys: String, CodingKey {
        case format, vendor, purpose, terms, scopes, version, data
        case vaultID = "vault_id", grantID = "grant_id", issuedAt = "issued_at", expiresAt = "expires_at", vendorKey = "vendor_key"
    }
}

/// The granted data, one optional section per kind.
public struct ShareData: Codable, Sendable, Equatable {
    /// Granted profile fields by key.
    public var profile: [String: String]?
    /// The customer's registry entry for the grantee.
    public var vendor: SharedVendor?
    /// Granted purchases, oldest first.
    public var purchases: [SharedPurchase]?
    /// Granted support cases, oldest first.
    public var cases: [SharedCase]?

    public init(profile: [String: String]? = nil, vendor: SharedVendor? = nil) {
        self.profile = profile
        self.vendor = vendor
    }
}

/// A purchase as shared. A gift is always marked, so it is never taken for the customer's own taste;
/// whom it was for is never shared. Annotations only with `purchases.annotations`.
public struct SharedPurchase: Codable, Sendable, Equatable {
    public var id: String
    public var vendor: String
    public var item: String
    public var date: String
    public var price: String?
    public var currency: String?
    public var quantity: Int
    public var gift: Bool
    public var rating: Int?
    public var returned: Bool?
    public var warrantyUntil: String?
    public var notes: String?
    public var tags: [String]?

    enum CodingKeys: String, CodingKey {
        case id, vendor, item, date, price, currency, quantity, gift, rating, returned, notes, tags
        case warrantyUntil = "warranty_until"
    }
}

/// A support case as shared under `cases:own`.
public struct SharedCase: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var at: String
        public var kind: String
        public var channel: String?
        public var text: String?
    }

    public var id: String
    public var subject: String
    public var channel: String
    public var priority: String
    public var status: String
    public var openedAt: String
    public var resolvedAt: String?
    public var followUp: String?
    public var reference: String?
    public var timeline: [Entry]

    enum CodingKeys: String, CodingKey {
        case id, subject, channel, priority, status, reference, timeline
        case openedAt = "opened_at", resolvedAt = "resolved_at", followUp = "follow_up"
    }
}

/// The vendor entry as shared: name always; site, contact and stage with `vendor`;
/// notes with `vendor.notes`.
public struct SharedVendor: Codable, Sendable, Equatable {
    public var name: String
    public var site: String?
    public var contact: String?
    public var stage: String?
    public var notes: String?
}

/// A share document signed by the vault as a JWS (RFC 7515) in the flattened JSON
/// serialization: `{"payload", "protected", "signature"}`, each base64url without padding.
/// The protected header is `{"alg":"Ed25519","jwk":{…},"kid":"…","typ":"vrm-share+json"}`:
/// `alg` as RFC 9864 names Ed25519 (`EdDSA` is accepted on input), `jwk` the vault's public key
/// (RFC 8037 OKP), `kid` its RFC 7638 thumbprint. A vendor verifies with the key it pinned or
/// the one `GET /.well-known/jwks.json` lists under that `kid`; the `jwk` in the header only
/// says which key signed. `Specs/share-envelope.md` §2.
public struct SignedShare: Codable, Sendable {
    /// The `typ` of every share's protected header.
    public static let type = "vrm-share+json"
    /// What a share is signed with (RFC 9864's name for Ed25519).
    public static let algorithm = "Ed25519"

    public var protected: String
    public var payload: String
    public var signature: String

    /// The protected header.
    public struct Header: Codable, Sendable {
        public var alg: String
        public var jwk: VaultJWK?
        public var kid: String?
        public var typ: String?
    }

    /// Signs `documentBytes` with the vault key.
    static func sign(_ documentBytes: [UInt8], with key: SigningKeyPair) -> SignedShare {
        let jwk = VaultJWK(publicKey: key.publicKey)
        // Written by hand in sorted key order: every value is base64url or a fixed word.
        let header =
            "{\"alg\":\"\(algorithm)\",\"jwk\":{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"\(jwk.x)\"},\"kid\":\"\(jwk.thumbprint)\",\"typ\":\"\(type)\"}"
        let protected = Base64URL.encode(Array(header.utf8))
        let payload = Base64URL.encode(documentBytes)
        let signature = key.sign(Array("\(protected).\(payload)".utf8))
        return SignedShare(protected: protected, payload: payload, signature: Base64URL.encode(signature))
    }

    /// The protected header, decoded; throws when it is not one of a share.
    public func header() throws -> Header {
        guard let bytes = Base64URL.decode(protected), let header = try? JSONDecoder().decode(Header.self, from: Data(bytes)) else {
            throw ShareFormatError.malformed("JWS protected header")
        }
        guard header.alg == Self.algorithm || header.alg == "EdDSA" else { throw ShareFormatError.malformed("JWS (alg is not Ed25519)") }
        guard header.typ == Self.type else { throw ShareFormatError.malformed("JWS (typ is not \(Self.type))") }
        return header
    }

    /// Verifies the signature — with `expectedSigner` (the raw Ed25519 key the vendor pinned,
    /// or took from the JWK Set) when given, else with the key the header names — and decodes
    /// the document. Returns the signer's key.
    public func verified(expectedSigner: [UInt8]? = nil) throws -> (document: ShareDocument, signer: [UInt8]) {
        let header = try header()
        guard let named = header.jwk?.publicKey, header.kid == header.jwk?.thumbprint else {
            throw ShareFormatError.malformed("JWS (its jwk is not an Ed25519 key, or its kid is not that key's thumbprint)")
        }
        let key = expectedSigner ?? named
        if let expectedSigner, !constantTimeEquals(expectedSigner, named) { throw ShareFormatError.unexpectedSigner }
        guard let signatureBytes = Base64URL.decode(signature), let payloadBytes = Base64URL.decode(payload) else {
            throw ShareFormatError.malformed("JWS")
        }
        guard Signature.verify(signatureBytes, message: Array("\(protected).\(payload)".utf8), publicKey: key) else {
            throw ShareFormatError.badSignature
        }
        do {
            return (try JSONDecoder().decode(ShareDocument.self, from: Data(payloadBytes)), key)
        } catch {
            throw ShareFormatError.malformed("share document")
        }
    }

    /// The JSON the server sends for a bearer grant (and seals for a key-bound one): keys in
    /// sorted order, values base64url (no escaping needed).
    var jsonBytes: [UInt8] {
        Array("{\"payload\":\"\(payload)\",\"protected\":\"\(protected)\",\"signature\":\"\(signature)\"}".utf8)
    }
}

/// The vault's share-signing key as a JWK (RFC 7517; OKP, RFC 8037), with its RFC 7638
/// thumbprint as `kid`.
public struct VaultJWK: Codable, Sendable, Equatable {
    public var kty: String
    public var crv: String
    public var x: String
    public var kid: String?
    public var alg: String?
    public var use: String?
    /// `notify` for the notification key (`Specs/requests.md` §5); absent for the share signer.
    public var vrmUse: String?
    /// The notification key's certificate: a compact JWS by the share signer.
    public var vrmCertificate: String?

    enum CodingKeys: String, CodingKey {
        case kty, crv, x, kid, alg, use
        case vrmUse = "vrm_use", vrmCertificate = "vrm_certificate"
    }

    public init(publicKey: [UInt8]) {
        kty = "OKP"
        crv = "Ed25519"
        x = Base64URL.encode(publicKey)
        kid = Self.thumbprint(x: x)
        alg = SignedShare.algorithm
        use = "sig"
    }

    /// RFC 7638: base64url(SHA-256 of `{"crv":"Ed25519","kty":"OKP","x":"…"}`).
    public static func thumbprint(x: String) -> String {
        Base64URL.encode(SHA256.hash(Array("{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"\(x)\"}".utf8)))
    }

    /// The raw 32-byte key, or nil when this is not an Ed25519 OKP key.
    public var publicKey: [UInt8]? {
        guard kty == "OKP", crv == "Ed25519", let key = Base64URL.decode(x), key.count == SigningKeyPair.publicKeyBytes else { return nil }
        return key
    }

    /// The key's own thumbprint (what `kid` should be).
    public var thumbprint: String { Self.thumbprint(x: x) }
}

/// `GET /.well-known/jwks.json`: the vault's share-signing key (RFC 7517 §5).
public struct VaultJWKSet: Codable, Sendable {
    public var keys: [VaultJWK]

    public init(keys: [VaultJWK]) {
        self.keys = keys
    }

    /// The share-signing key with this `kid`, when it is an Ed25519 key whose `kid` is its
    /// thumbprint. The notification key (`vrm_use`) never signs a share: the endpoint holds it.
    public func key(kid: String) -> [UInt8]? {
        keys.first { $0.kid == kid && $0.thumbprint == kid && $0.vrmUse == nil }?.publicKey
    }
}

/// What the server sends for a key-bound grant: the signed share sealed to the vendor's key.
public struct SealedShare: Codable, Sendable {
    public static let format = "vrm-sealed-share/2"

    public var format: String
    public var grantID: String
    public var version: Int
    /// base64 of `crypto_box_seal(signed share (JWS JSON), vendor public key)`.
    public var sealedShare: String

    enum CodingKeys: String, CodingKey {
        case format, version
        case grantID = "grant_id", sealedShare = "sealed_share"
    }

    public init(grantID: String, version: Int, sealed: [UInt8]) {
        self.format = Self.format
        self.grantID = grantID
        self.version = version
        self.sealedShare = Data(sealed).base64EncodedString()
    }

    /// The JSON the server sends, built directly (it runs for every key-bound redemption): the
    /// same bytes JSONEncoder with sorted keys gives, since ids are `[a-z0-9_]` and base64 needs
    /// no escaping.
    public var jsonBytes: [UInt8] {
        Array("{\"format\":\"\(format)\",\"grant_id\":\"\(grantID)\",\"sealed_share\":\"\(sealedShare)\",\"version\":\(version)}".utf8)
    }

    /// Opens the box with the vendor's key pair.
    public func open(with keyPair: BoxKeyPair) throws -> SignedShare {
        guard format == Self.format, let sealed = Data(base64Encoded: sealedShare) else {
            throw ShareFormatError.malformed("sealed share")
        }
        let plain: [UInt8]
        do {
            plain = try VaultCrypto.SealedBox.open(Array(sealed), keyPair: keyPair)
        } catch {
            throw ShareFormatError.notForThisKey
        }
        do {
            return try JSONDecoder().decode(SignedShare.self, from: Data(plain))
        } catch {
            throw ShareFormatError.malformed("signed share (not a JWS)")
        }
    }
}

/// Errors reading a share on the vendor side.
public enum ShareFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case badSignature
    case unexpectedSigner
    case notForThisKey

    public var description: String {
        switch self {
        case .malformed(let what): "malformed \(what)"
        case .badSignature: "the share's signature does not verify: it was altered or not signed by the vault"
        case .unexpectedSigner: "the share was signed by a different vault key than the one pinned"
        case .notForThisKey: "the sealed share does not open with this vendor key"
        }
    }
}
