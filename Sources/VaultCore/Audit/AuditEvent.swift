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

    /// Entries only the CLI writes: from format 2 on each carries the vault key's MAC, and one
    /// without it is a forgery. The server's events cannot carry one (it has no key).
    public var writtenByCLI: Bool {
        switch self {
        case .grantIssued, .grantRevoked, .shareRematerialised, .vaultMigrated, .keyRotated: true
        case .shareRedeemed, .shareDenied, .shareNotModified: false
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

    public init(
        grantID: String? = nil, vendorID: String? = nil, vendor: String? = nil, scopes: [String]? = nil,
        purpose: String? = nil, version: Int? = nil, client: String? = nil, userAgent: String? = nil,
        reason: String? = nil
    ) {
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
        case vendor, scopes, purpose, version, client, reason
        case grantID = "grant_id", vendorID = "vendor_id", userAgent = "user_agent"
    }
}
