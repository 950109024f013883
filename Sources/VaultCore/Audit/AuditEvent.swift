/// The kinds of share-history entries (stored in the clear: they name no one).
public enum AuditEvent: String, Sendable, Codable, CaseIterable {
    case grantIssued = "grant.issued"
    case grantRevoked = "grant.revoked"
    case shareRematerialised = "share.rematerialised"
    case shareRedeemed = "share.redeemed"
    case shareDenied = "share.denied"
    /// A conditional request for a version the vendor holds: 304, no use counted.
    case shareNotModified = "share.not_modified"
    /// The CLI moved a format-1 vault to format 2 (`FormatMigration`).
    case vaultMigrated = "vault.migrated"
    /// `vrm passphrase change --rotate-key` replaced the master key.
    case keyRotated = "key.rotated"
    /// `vrm request link` made a request link (`Specs/requests.md` §1).
    case requestLinked = "request.linked"
    /// An endpoint took an access request with a valid code (§2).
    case requestReceived = "request.received"
    /// The customer approved (after its `grant.issued`) or denied a request (§3).
    case requestApproved = "request.approved"
    case requestDenied = "request.denied"

    /// Entries only the CLI writes: from format 2 on each carries the vault key's MAC, and one
    /// without it is a forgery. The server's events cannot carry one (it has no key).
    public var writtenByCLI: Bool {
        switch self {
        case .grantIssued, .grantRevoked, .shareRematerialised, .vaultMigrated, .keyRotated, .requestLinked, .requestApproved,
            .requestDenied:
            true
        case .shareRedeemed, .shareDenied, .shareNotModified, .requestReceived: false
        }
    }
}

/// The sealed body of an entry: who, what, from where. Readable only with the vault key.
public struct AuditBody: Codable, Sendable, Equatable {
    public var grantID: String?
    public var vendorID: String?
    public var vendor: String?
    public var scopes: [String]?
    public var purpose: String?
    public var version: Int?
    public var client: String?
    public var userAgent: String?
    /// For denials: `invalid_token`, `revoked`, `expired`, `used_up`.
    public var reason: String?
    /// Access requests: the request's id, and the selector (hex) of the link it came with.
    public var requestID: String?
    public var link: String?

    public init(
        grantID: String? = nil, vendorID: String? = nil, vendor: String? = nil, scopes: [String]? = nil,
        purpose: String? = nil, version: Int? = nil, client: String? = nil, userAgent: String? = nil,
        reason: String? = nil, requestID: String? = nil, link: String? = nil
    ) {
        self.requestID = requestID
        self.link = link
        self.grantID = grantID
        self.vendorID = vendorID
        self.vendor = vendor
        self.scopes = scopes
        self.purpose = purpose
        self.version = version
        self.client = client
        self.userAgent = userAgent
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case vendor, scopes, purpose, version, client, reason, link
        case grantID = "grant_id", vendorID = "vendor_id", userAgent = "user_agent", requestID = "request_id"
    }
}
