import Foundation
import GRDB

/// What `purchases` and `cases` have in common: sealed rows that belong to a vendor, whose id
/// is in the clear so a share of one vendor's records can select them. Each table type
/// (`PurchasesTable`, `CasesTable`) is built on one of these for its own table.
struct VendorRecordRows {
    let db: Database
    /// `purchases` or `cases` (a constant of the table types, never input).
    let table: String

    /// The row with this id, or nil.
    func row(id: String) throws -> SealedRow? {
        try SealedRow.all(db, "SELECT id, sealed FROM \(table) WHERE id = ?1", of: table) { $0.bind(1, id) }.first
    }

    /// Every row, or one vendor's.
    func rows(vendorID: String?) throws -> [SealedRow] {
        guard let vendorID else { return try SealedRow.all(db, "SELECT id, sealed FROM \(table)", of: table) }
        return try SealedRow.all(db, "SELECT id, sealed FROM \(table) WHERE vendor_id = ?1", of: table) { $0.bind(1, vendorID) }
    }

    func update(id: String, sealed: [UInt8], updatedAt: Int64) throws {
        try db.execute(sql: "UPDATE \(table) SET sealed = ?, updated_at = ? WHERE id = ?", arguments: [Data(sealed), updatedAt, id])
    }

    func delete(id: String) throws {
        try db.execute(sql: "DELETE FROM \(table) WHERE id = ?", arguments: [id])
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
