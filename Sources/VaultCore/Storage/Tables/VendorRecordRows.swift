import Foundation
import GRDB

/// What `purchases` and `cases` have in common: sealed rows that belong to a vendor, whose id
/// is in the clear so a share of one vendor's records can select them. The table types
/// (`PurchasesTable`, `CasesTable`) get these statements for their own table from here.
protocol VendorRecordRows {
    var db: Database { get }
    /// `purchases` or `cases` (a constant of the table type, never input).
    static var table: String { get }
}

extension VendorRecordRows {
    private var table: String { Self.table }

    /// The row with this id, or nil.
    func row(id: String) throws -> SealedRow? {
        try SealedRow.all(db, "SELECT id, sealed, vendor_id FROM \(table) WHERE id = ?1", of: table, owner: true) { $0.bind(1, id) }.first
    }

    /// Every row, or one vendor's.
    func rows(vendorID: String?) throws -> [SealedRow] {
        guard let vendorID else { return try SealedRow.all(db, "SELECT id, sealed, vendor_id FROM \(table)", of: table, owner: true) }
        return try SealedRow.all(db, "SELECT id, sealed, vendor_id FROM \(table) WHERE vendor_id = ?1", of: table, owner: true) {
            $0.bind(1, vendorID)
        }
    }

    func update(id: String, sealed: [UInt8], updatedAt: Int64) throws {
        try db.execute(sql: "UPDATE \(table) SET sealed = ?, updated_at = ? WHERE id = ?", arguments: [Data(sealed), updatedAt, id])
    }

    /// Replaces a row's sealed value, keeping its times (key rotation).
    func reseal(id: String, sealed: [UInt8]) throws {
        try db.execute(sql: "UPDATE \(table) SET sealed = ? WHERE id = ?", arguments: [Data(sealed), id])
    }

    func delete(id: String) throws {
        try db.execute(sql: "DELETE FROM \(table) WHERE id = ?", arguments: [id])
    }

    /// Deletes one vendor's rows; how many.
    func delete(vendorID: String) throws -> Int {
        try db.execute(sql: "DELETE FROM \(table) WHERE vendor_id = ?", arguments: [vendorID])
        return db.changesCount
    }

    /// How many rows each vendor has.
    func countsByVendor() throws -> [String: Int] {
        let statement = try RawStatement(db, "SELECT vendor_id, count(*) FROM \(table) GROUP BY vendor_id")
        defer { statement.reset() }
        var counts: [String: Int] = [:]
        while try statement.step() {
            counts[try statement.text(0, "vendor_id", of: table), default: 0] += Int(truncatingIfNeeded: statement.int64(1))
        }
        return counts
    }

    /// How many rows one vendor has.
    func count(vendorID: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE vendor_id = ?", arguments: [vendorID]) ?? 0
    }
}
