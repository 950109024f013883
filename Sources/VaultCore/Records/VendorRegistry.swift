import Foundation
import VaultCrypto

/// The customer's registry of vendors: sealed rows found by a keyed hash of the normalised
/// name. Editing a vendor re-materialises the grants whose shares name it.
public struct VendorRegistry: Sendable {
    let context: VaultContext

    static let maxNameLength = 200

    static func normalisedName(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Adds a vendor; names are unique ignoring case and surrounding space.
    @discardableResult
    public func add(
        name: String, site: String? = nil, contact: String? = nil, publicKey: String? = nil,
        stage: RelationshipStage = .awareness
    ) throws -> Vendor {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= Self.maxNameLength else {
            throw VaultError.invalidInput("a vendor name must be 1-\(Self.maxNameLength) characters")
        }
        let key = try publicKey.map(Self.canonicalPublicKey)
        let now = context.now
        let vendor = Vendor(
            id: context.newRowID(), name: trimmed, site: site, contact: contact, publicKey: key, stage: stage,
            notes: nil, createdAt: now, updatedAt: now)
        try context.write { transaction in try insert(vendor, in: transaction) }
        return vendor
    }

    /// All vendors, sorted by name.
    public func all() throws -> [Vendor] {
        try context.read { transaction in try all(in: transaction) }
    }

    /// The vendor with this name (case-insensitive); throws `notFound`.
    public func vendor(named name: String) throws -> Vendor {
        try context.read { transaction in try vendor(named: name, in: transaction) }
    }

    /// Applies `edit` and re-materialises the vendor's active grants.
    @discardableResult
    public func edit(named name: String, _ edit: VendorEdit) throws -> Vendor {
        let key = try edit.publicKey.map(Self.canonicalPublicKey)
        return try context.write { transaction in
            var vendor = try vendor(named: name, in: transaction)
            if let site = edit.site { vendor.site = site.isEmpty ? nil : site }
            if let contact = edit.contact { vendor.contact = contact.isEmpty ? nil : contact }
            if let key { vendor.publicKey = key }
            if let notes = edit.notes { vendor.notes = notes.isEmpty ? nil : notes }
            if let stage = edit.stage { vendor.stage = stage }
            vendor.updatedAt = context.now
            try transaction.vendors.update(id: vendor.id, sealed: try seal(vendor), updatedAt: context.nowMillis)
            try ConsentEngine(context: context).rematerialise(affectedBy: .vendor(id: vendor.id), in: transaction)
            return vendor
        }
    }

    /// Removes a vendor; its active grants are revoked (and their shares destroyed) in the same
    /// transaction. Returns how many grants were revoked.
    @discardableResult
    public func remove(named name: String) throws -> Int {
        defer { context.database.checkpoint() }
        return try context.write { transaction in
            let vendor = try vendor(named: name, in: transaction)
            let records = try transaction.purchases.count(vendorID: vendor.id) + transaction.cases.count(vendorID: vendor.id)
            guard records == 0 else {
                throw VaultError.conflict(
                    "\(vendor.name) has \(records) purchase and case record(s); remove them first, or keep the vendor at stage dissolution")
            }
            let consent = ConsentEngine(context: context)
            var revoked = 0
            for grant in try consent.grants(in: transaction) where grant.vendorID == vendor.id && grant.revokedAt == nil {
                try consent.revoke(grant, in: transaction)
                revoked += 1
            }
            try transaction.vendors.delete(id: vendor.id)
            return revoked
        }
    }

    /// Stores a new vendor in the caller's transaction; names are unique.
    func insert(_ vendor: Vendor, in transaction: StorageTransaction) throws {
        let index = nameIndex(vendor.name)
        guard try !transaction.vendors.exists(nameIndex: index) else { throw VaultError.conflict("a vendor with that name already exists") }
        try transaction.vendors.insert(
            id: vendor.id, nameIndex: index, sealed: try seal(vendor),
            createdAt: Millis.from(vendor.createdAt), updatedAt: Millis.from(vendor.updatedAt))
    }

    /// The vendor with this name, in the caller's transaction; throws `notFound`.
    func vendor(named name: String, in transaction: StorageTransaction) throws -> Vendor {
        guard let row = try transaction.vendors.row(nameIndex: nameIndex(name)) else { throw VaultError.notFound(kind: "vendor", id: "") }
        let vendor = try decode(row)
        // The row found by the name's index must carry that name: an index swapped in would
        // otherwise send one vendor's grant, or records, to another.
        guard Self.normalisedName(vendor.name) == Self.normalisedName(name) else {
            throw VaultError.mismatch(table: "vendors", id: row.id, column: "column name_index")
        }
        return vendor
    }

    /// The vendor with this id, or nil, in the caller's transaction.
    func vendor(id: String, in transaction: StorageTransaction) throws -> Vendor? {
        try transaction.vendors.row(id: id).map(decode)
    }

    /// All vendors sorted by name, in the caller's transaction.
    func all(in transaction: StorageTransaction) throws -> [Vendor] {
        try transaction.vendors.all().map(decode).sorted { $0.name.lowercased() < $1.name.lowercased() }
    }

    /// Vendor names by id, in the caller's transaction.
    func names(in transaction: StorageTransaction) throws -> [String: String] {
        Dictionary(try all(in: transaction).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
    }

    func nameIndex(_ name: String) -> [UInt8] {
        context.keys.blindIndex(table: "vendors", value: Self.normalisedName(name))
    }

    private func seal(_ vendor: Vendor) throws -> [UInt8] {
        try context.keys.sealJSON(vendor, table: "vendors", id: vendor.id)
    }

    private func decode(_ row: SealedRow) throws -> Vendor {
        let vendor = try context.keys.openJSON(Vendor.self, row.sealed, table: "vendors", id: row.id)
        guard vendor.id == row.id else { throw VaultError.mismatch(table: "vendors", id: row.id, column: "column id") }
        return vendor
    }

    /// Accepts exactly the `vrmpk1_…` form of a usable X25519 key and returns it trimmed.
    static func canonicalPublicKey(_ text: String) throws -> String {
        let key: [UInt8]
        do {
            key = try VendorKeyText.decodePublic(text)
        } catch {
            throw VaultError.invalidInput(
                "malformed vendor public key: expected the vrmpk1_… text printed by `vrm vendor-key generate` (56 characters with checksum)")
        }
        // A low-order point (all zeros, and the few others) gives every sender the same shared
        // secret: libsodium refuses to seal to it, so a grant for it could never be issued.
        guard (try? SealedBox.seal([0], to: key)) != nil else {
            throw VaultError.invalidInput(
                "unusable vendor public key: a low-order X25519 point that nothing can be sealed to; "
                    + "ask the vendor for the key printed by `vrm vendor-key generate`")
        }
        return VendorKeyText.encodePublic(key)
    }
}
