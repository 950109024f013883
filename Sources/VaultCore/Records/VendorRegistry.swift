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

    /// What keeps a vendor in the vault: its records and its active grants.
    public struct Holdings: Sendable, Equatable {
        public var purchases: Int
        public var cases: Int
        /// Grants not yet revoked (active, expired or used up): removal revokes them.
        public var unrevokedGrants: Int
        public var records: Int { purchases + cases }
    }

    /// What removing the named vendors would take with each (a name given twice, in any
    /// spelling, once); the grants are read once for all of them.
    public func holdings(names: [String]) throws -> [(Vendor, Holdings)] {
        try context.read { transaction in
            let grants = try ConsentEngine(context: context).grants(in: transaction)
            var seen: Set<String> = []
            return try names.filter { seen.insert(Self.normalisedName($0)).inserted }.map { name in
                let vendor = try vendor(named: name, in: transaction)
                return (
                    vendor,
                    Holdings(
                        purchases: try transaction.purchases.count(vendorID: vendor.id), cases: try transaction.cases.count(vendorID: vendor.id),
                        unrevokedGrants: grants.filter { $0.vendorID == vendor.id && $0.revokedAt == nil }.count)
                )
            }
        }
    }

    /// What one vendor's removal took.
    public struct Removal: Sendable, Equatable {
        public var vendor: Vendor
        public var revokedGrants: Int
        public var removedPurchases: Int
        public var removedCases: Int
    }

    /// Removes a vendor; its unrevoked grants are revoked (and their shares destroyed) in the
    /// same transaction. Returns how many grants were revoked.
    @discardableResult
    public func remove(named name: String) throws -> Int {
        try remove(names: [name], withRecords: false)[0].revokedGrants
    }

    /// Removes the named vendors in one transaction, all or none. A vendor with purchases or
    /// cases is refused unless `withRecords`, which removes those records too; the grants that
    /// shared them (`purchases:all`) are re-materialised once, before the vendors go.
    public func remove(names: [String], withRecords: Bool) throws -> [Removal] {
        defer { context.database.checkpoint() }
        return try context.write { transaction in
            let consent = ConsentEngine(context: context)
            let grants = try consent.grants(in: transaction)
            var removals: [Removal] = []
            var seen: Set<String> = []
            for name in names where seen.insert(Self.normalisedName(name)).inserted {
                let vendor = try vendor(named: name, in: transaction)
                let purchases = try transaction.purchases.count(vendorID: vendor.id), cases = try transaction.cases.count(vendorID: vendor.id)
                guard withRecords || purchases + cases == 0 else {
                    throw VaultError.conflict(
                        "\(vendor.name) has \(purchases) purchase\(purchases == 1 ? "" : "s") and \(cases) case\(cases == 1 ? "" : "s"); "
                            + "remove them too with --with-records, or keep the vendor at stage dissolution")
                }
                var revoked = 0
                for grant in grants where grant.vendorID == vendor.id && grant.revokedAt == nil {
                    try consent.revoke(grant, in: transaction)
                    revoked += 1
                }
                var removedPurchases = 0, removedCases = 0
                if withRecords {
                    removedPurchases = try transaction.purchases.delete(vendorID: vendor.id)
                    removedCases = try transaction.cases.delete(vendorID: vendor.id)
                }
                removals.append(Removal(vendor: vendor, revokedGrants: revoked, removedPurchases: removedPurchases, removedCases: removedCases))
            }
            let withPurchases = Set(removals.filter { $0.removedPurchases > 0 }.map(\.vendor.id))
            if !withPurchases.isEmpty { try consent.rematerialise(affectedBy: .purchases(vendorIDs: withPurchases), in: transaction) }
            for removal in removals { try transaction.vendors.delete(id: removal.vendor.id) }
            return removals
        }
    }

    /// `"Acme" (did you mean "Acme Outdoor"?)`: the name as typed, with the nearest registered names.
    func notFoundText(_ name: String, in transaction: StorageTransaction) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let quoted = "\"\(trimmed.prefix(60))\""
        let names = try all(in: transaction).map(\.name)
        guard !names.isEmpty else { return quoted + " (there are no vendors yet; add one with `vrm vendor add`)" }
        let hint = NearNames.hint(trimmed, among: names)
        return quoted + (hint.isEmpty ? " (`vrm vendor list` shows them)" : hint)
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
        guard let row = try transaction.vendors.row(nameIndex: nameIndex(name)) else {
            throw VaultError.notFound(kind: "vendor", id: try notFoundText(name, in: transaction))
        }
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
