public import Foundation

/// Where the customer stands with a vendor (the VRM relationship stages).
public enum RelationshipStage: String, Codable, Sendable, CaseIterable {
    case awareness, exploration, expansion, commitment, dissolution
}

/// The customer's registry entry for one vendor.
public struct Vendor: Codable, Sendable, Equatable {
    /// Random row id (not secret, not personal).
    public var id: String
    public var name: String
    public var site: String?
    public var contact: String?
    /// The vendor's X25519 public key in `vrmpk1_…` text form, if it has one.
    public var publicKey: String?
    public var stage: RelationshipStage
    public var notes: String?
    public var createdAt: Date
    public var updatedAt: Date

    /// Whether grants to this vendor are key-bound.
    public var hasPublicKey: Bool { publicKey != nil }
}

/// Changes to a vendor entry; nil fields stay as they are.
public struct VendorEdit: Sendable {
    public var site: String?
    public var contact: String?
    public var publicKey: String?
    public var notes: String?
    public var stage: RelationshipStage?

    public init(site: String? = nil, contact: String? = nil, publicKey: String? = nil, notes: String? = nil, stage: RelationshipStage? = nil) {
        self.site = site
        self.contact = contact
        self.publicKey = publicKey
        self.notes = notes
        self.stage = stage
    }
}
