public import Foundation
public import GRDB
public import VaultCrypto

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

extension Vault {
    static let maxVendorNameLength = 200

    static func normalisedVendorName(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Adds a vendor; names are unique ignoring case and surrounding space.
    @discardableResult
    public func addVendor(name: String, site: String? = nil, contact: String? = nil, publicKey: String? = nil,
                          stage: RelationshipStage = .awareness) throws -> Vendor {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= Self.maxVendorNameLength else {
            throw VaultError.invalidInput("a vendor name must be 1-\(Self.maxVendorNameLength) characters")
        }
        let key = try publicKey.map(Self.canonicalPublicKey)
        let now = self.now
        let vendor = Vendor(id: newRowID(), name: trimmed, site: site, contact: contact, publicKey: key, stage: stage,
                            notes: nil, createdAt: now, updatedAt: now)
        try transaction { db in
            try insert(vendor, db)
        }
        return vendor
    }

    /// Stores a new vendor in the caller's transaction; names are unique.
    func insert(_ vendor: Vendor, _ db: Database) throws {
        let index = keys.blindIndex(table: "vendors", value: Self.normalisedVendorName(vendor.name))
        let taken = try Bool.fetchOne(db, sql: "SELECT 1 FROM vendors WHERE name_index = ?", arguments: [Data(index)]) ?? false
        guard !taken else { throw VaultError.conflict("a vendor with that name already exists") }
        try db.execute(
            sql: "INSERT INTO vendors (id, name_index, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [vendor.id, Data(index), Data(try sealJSON(vendor, table: "vendors", id: vendor.id)),
                        Millis.from(vendor.createdAt), Millis.from(vendor.updatedAt)])
    }

    /// All vendors, sorted by name.
    public func vendors() throws -> [Vendor] {
        try database.read { db in try allVendors(db) }
    }

    /// The vendor with this name (case-insensitive); throws `notFound`.
    public func vendor(named name: String) throws -> Vendor {
        try database.read { db in try vendor(named: name, db) }
    }

    /// Applies `edit` and re-materialises the vendor's active grants.
    @discardableResult
    public func editVendor(named name: String, _ edit: VendorEdit) throws -> Vendor {
        let key = try edit.publicKey.map(Self.canonicalPublicKey)
        return try transaction { db in
            var vendor = try vendor(named: name, db)
            if let site = edit.site { vendor.site = site.isEmpty ? nil : site }
            if let contact = edit.contact { vendor.contact = contact.isEmpty ? nil : contact }
            if let key { vendor.publicKey = key }
            if let notes = edit.notes { vendor.notes = notes.isEmpty ? nil : notes }
            if let stage = edit.stage { vendor.stage = stage }
            vendor.updatedAt = now
            try db.execute(
                sql: "UPDATE vendors SET sealed = ?, updated_at = ? WHERE id = ?",
                arguments: [Data(try sealJSON(vendor, table: "vendors", id: vendor.id)), nowMillis, vendor.id])
            try rematerialise(affectedBy: .vendor(id: vendor.id), db)
            return vendor
        }
    }

    /// Removes a vendor; its active grants are revoked (and their shares destroyed) in the same
    /// transaction. Returns how many grants were revoked.
    @discardableResult
    public func removeVendor(named name: String) throws -> Int {
        defer { database.checkpoint() }
        return try transaction { db in
            let vendor = try vendor(named: name, db)
            let records = try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM purchases WHERE vendor_id = ?) + (SELECT count(*) FROM cases WHERE vendor_id = ?)",
                                           arguments: [vendor.id, vendor.id]) ?? 0
            guard records == 0 else {
                throw VaultError.conflict("\(vendor.name) has \(records) purchase and case record(s); remove them first, or keep the vendor at stage dissolution")
            }
            var revoked = 0
            for grant in try grants(db) where grant.vendorID == vendor.id && grant.revokedAt == nil {
                try revoke(grant, db)
                revoked += 1
            }
            try db.execute(sql: "DELETE FROM vendors WHERE id = ?", arguments: [vendor.id])
            return revoked
        }
    }

    func vendor(named name: String, _ db: Database) throws -> Vendor {
        let index = keys.blindIndex(table: "vendors", value: Self.normalisedVendorName(name))
        guard let row = try Row.fetchOne(db, sql: "SELECT id, sealed FROM vendors WHERE name_index = ?", arguments: [Data(index)]) else {
            throw VaultError.notFound(kind: "vendor", id: "")
        }
        return try decodeVendor(row)
    }

    func vendor(id: String, _ db: Database) throws -> Vendor? {
        try Row.fetchOne(db, sql: "SELECT id, sealed FROM vendors WHERE id = ?", arguments: [id]).map(decodeVendor)
    }

    func allVendors(_ db: Database) throws -> [Vendor] {
        try Row.fetchAll(db, sql: "SELECT id, sealed FROM vendors").map(decodeVendor)
            .sorted { $0.name.lowercased() < $1.name.lowercased() }
    }

    private func decodeVendor(_ row: Row) throws -> Vendor {
        let id: String = row["id"]
        return try openJSON(Vendor.self, row.bytes("sealed"), table: "vendors", id: id)
    }

    /// Accepts exactly the `vrmpk1_…` form and returns it trimmed.
    static func canonicalPublicKey(_ text: String) throws -> String {
        do {
            return VendorKeyText.encodePublic(try VendorKeyText.decodePublic(text))
        } catch {
            throw VaultError.invalidInput(
                "malformed vendor public key: expected the vrmpk1_… text printed by `vrm vendor-key generate` (56 characters with checksum)")
        }
    }
}
