import Foundation
public import VaultCrypto

/// The document a vendor receives: only the granted data plus grant metadata.
/// Field by field: `Specs/share-envelope.md`.
public struct ShareDocument: Codable, Sendable, Equatable {
    public static let format = "vrm-share-document/1"

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

/// A share document with the vault's Ed25519 signature over its exact bytes.
public struct SignedShare: Codable, Sendable {
    public static let format = "vrm-signed-share/1"

    public var format: String
    /// base64 of the document's JSON bytes.
    public var document: String
    /// base64 of the Ed25519 signature over those bytes.
    public var signature: String
    /// base64 of the vault's Ed25519 public key.
    public var signer: String

    /// Signs `documentBytes` with the vault key.
    static func sign(_ documentBytes: [UInt8], with key: SigningKeyPair) -> SignedShare {
        SignedShare(
            format: format, document: Data(documentBytes).base64EncodedString(),
            signature: Data(key.sign(documentBytes)).base64EncodedString(),
            signer: Data(key.publicKey).base64EncodedString())
    }

    /// Verifies the signature (optionally against a pinned vault key) and decodes the document.
    public func verified(expectedSigner: [UInt8]? = nil) throws -> (document: ShareDocument, signer: [UInt8]) {
        guard format == Self.format,
            let doc = Data(base64Encoded: document), let sig = Data(base64Encoded: signature),
            let key = Data(base64Encoded: signer)
        else { throw ShareFormatError.malformed("signed share") }
        if let expectedSigner, !constantTimeEquals(expectedSigner, Array(key)) {
            throw ShareFormatError.unexpectedSigner
        }
        guard Signature.verify(Array(sig), message: Array(doc), publicKey: Array(key)) else {
            throw ShareFormatError.badSignature
        }
        do {
            return (try JSONDecoder().decode(ShareDocument.self, from: doc), Array(key))
        } catch {
            throw ShareFormatError.malformed("share document")
        }
    }
}

/// What the server sends for a key-bound grant: the signed share sealed to the vendor's key.
public struct SealedShare: Codable, Sendable {
    public static let format = "vrm-sealed-share/1"

    public var format: String
    public var grantID: String
    public var version: Int
    /// base64 of `crypto_box_seal(signed share JSON, vendor public key)`.
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
            throw ShareFormatError.malformed("signed share")
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
