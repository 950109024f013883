public import Foundation

/// How a grant's share is protected.
public enum GrantBinding: String, Sendable, Codable {
    /// Encrypted under a key derived from the token secret; the server decrypts it on redemption.
    case bearer
    /// Sealed to the vendor's X25519 public key; only the vendor opens it.
    case key
}

/// Where a grant stands at a given moment.
public enum GrantState: String, Sendable, Codable, CaseIterable {
    case active
    case expired
    case usedUp = "used-up"
    case revoked

    // The rule itself, `GrantState.evaluate`, stands beside its SQL form in
    // Storage/Tables/GrantStateRule.swift.
}

/// The sealed part of a grant row (`grants.sealed`): everything that names who or what.
struct GrantMetadata: Codable {
    var vendorID: String
    var scopes: [String]
    var purpose: Purpose
    var terms: String?
    var jurisdiction: String?
    /// The vendor key the share is sealed to (key-bound grants), as raw bytes in base64.
    var vendorPublicKey: String?
    /// Format 2: the policy columns as issued. nil only in a format-1 row, which the format
    /// migration seals anew with it.
    var policy: GrantPolicy?
    /// The access request the grant answered (`Specs/requests.md` §3), and the terms the vendor
    /// proffered in it.
    var requestID: String?
    var termsProffered: ProfferedTerms?
    /// Where the endpoint announces a new share version (`Specs/requests.md` §5).
    var notifyURL: String?
}

/// An agreement a vendor proffers with its request (IEEE 7012): an id, a URL, or both.
public struct ProfferedTerms: Codable, Sendable, Equatable {
    public var id: String?
    public var url: String?

    public init(id: String?, url: String?) {
        self.id = id
        self.url = url
    }
}

/// Format 2: a grant's policy, sealed in its metadata when it is issued. The plaintext columns
/// (which the server enforces without the key) must equal it; the CLI decides on this copy.
struct GrantPolicy: Codable, Equatable {
    var binding: GrantBinding
    var createdAt: Int64
    var expiresAt: Int64?
    var maxUses: Int?
    /// The token's selector and secret hash (standard base64), so a row cannot be pointed at
    /// another grant's token.
    var selector: String
    var secretHash: String
}

/// Format 2: `grants.status_sealed`, what changes after issue, sealed under the grant key (AD
/// field `status`): the current share version, and the revocation — set once by `vrm grant
/// revoke`, never cleared.
struct GrantStatus: Codable, Equatable {
    var version: Int
    var revokedAt: Int64?
    /// The highest use count the CLI has seen in the row (the server counts uses without the
    /// key, so the count in the clear could be lowered; the CLI never counts from below this).
    var usesSeen: Int?
    /// What the current share says, apart from when it was built and its version
    /// (`ConsentEngine.contentDigest`): a rebuild that would say the same is not stored.
    var content: String?
}

/// A share grant as the customer sees it.
public struct Grant: Sendable, Equatable {
    public var id: String
    public var vendorID: String
    /// The grantee's name, or nil when the vendor entry was removed.
    public var vendorName: String?
    public var scopes: [Scope]
    public var purpose: Purpose
    public var terms: String?
    public var jurisdiction: String?
    public var binding: GrantBinding
    public var createdAt: Date
    public var expiresAt: Date?
    public var maxUses: Int?
    public var useCount: Int
    public var revokedAt: Date?
    /// The share version (the HTTP ETag); bumped whenever the shared data changes.
    public var shareVersion: Int
    /// Key-bound grants: the vendor key (`vrmpk1_…`) the share is sealed to.
    public var vendorKey: String?
    /// The access request this grant answered (`rq_…`), and the terms proffered with it.
    public var requestID: String? = nil
    public var termsProffered: ProfferedTerms? = nil
    /// The vendor's webhook for share changes.
    public var notifyURL: String? = nil

    /// The state at `now`.
    public func state(at now: Date) -> GrantState {
        GrantState.evaluate(
            revokedAt: revokedAt.map(Millis.from), expiresAt: expiresAt.map(Millis.from),
            maxUses: maxUses, useCount: useCount, nowMillis: Millis.from(now))
    }

    /// Uses left, or nil for unlimited.
    public var usesLeft: Int? {
        maxUses.map { maxUses in
            let (left, overflow) = maxUses.subtractingReportingOverflow(useCount)
            return overflow ? (useCount < 0 ? Int.max : 0) : max(0, left)
        }
    }
}

/// What `vrm grant create` asks for.
public struct GrantRequest: Sendable {
    public var vendorName: String
    public var scopes: [Scope]
    public var purpose: Purpose
    /// nil means "never expires" (the CLI asks for that explicitly).
    public var expiresAt: Date?
    public var maxUses: Int?
    public var terms: String?
    public var jurisdiction: String?
    /// Profile scopes may name fields the profile does not have yet. Without it a profile scope
    /// that matches no field is refused (a typo such as `profile.adress` would share nothing).
    public var allowUnsetFields: Bool
    /// The vendor's webhook for share changes (`Specs/requests.md` §5).
    public var notifyURL: String? = nil
    /// Set when the grant answers an access request.
    var requestID: String? = nil
    var termsProffered: ProfferedTerms? = nil

    public init(
        vendorName: String, scopes: [Scope], purpose: Purpose, expiresAt: Date?, maxUses: Int? = nil,
        terms: String? = nil, jurisdiction: String? = nil, allowUnsetFields: Bool = false, notifyURL: String? = nil
    ) {
        self.notifyURL = notifyURL
        self.allowUnsetFields = allowUnsetFields
        self.vendorName = vendorName
        self.scopes = scopes
        self.purpose = purpose
        self.expiresAt = expiresAt
        self.maxUses = maxUses
        self.terms = terms
        self.jurisdiction = jurisdiction
    }
}
