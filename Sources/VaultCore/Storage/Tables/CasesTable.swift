import Foundation
import GRDB

/// The `cases` table: one sealed row per support case (with its whole timeline), with its
/// vendor's id in the clear (the share of `cases:own` selects by it).
struct CasesTable {
    let db: Database

    func insert(id: String, vendorID: String, sealed: [UInt8], createdAt: Int64, updatedAt: Int64) throws {
        try db.execute(
            sql: "INSERT INTO cases (id, vendor_id, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [id, vendorID, Data(sealed), createdAt, updatedAt])
    }

    /// The case with this id, or nil.
    func row(id: String) throws -> SealedRow? {
        try Row.fetchOne(db, sql: "SELECT id, sealed FROM cases WHERE id = ?", arguments: [id])?.sealedRow
    }

    /// Every case, or one vendor's.
    func rows(vendorID: String?) throws -> [SealedRow] {
        guard let vendorID else { return try Row.fetchAll(db, sql: "SELECT id, sealed FROM cases").map(\.sealedRow) }
        return try Row.fetchAll(db, sql: "SELECT id, sealed FROM cases WHERE vendor_id = ?", arguments: [vendorID]).map(\.sealedRow)
    }

    func update(id: String, sealed: [UInt8], updatedAt: Int64) throws {
        try db.execute(sql: "UPDATE cases SET sealed = ?, updated_at = ? WHERE id = ?", arguments: [Data(sealed), updatedAt, id])
    }

    func delete(id: String) throws {
        try db.execute(sql: "DELETE FROM cases WHERE id = ?", arguments: [id])
    }

    /// How many cases each vendor has.
    func countsByVendor() throws -> [String: Int] {
        Dictionary(try Row.fetchAll(db, sql: "SELECT vendor_id, count(*) AS n FROM cases GROUP BY vendor_id")
            .map { ($0["vendor_id"] as String, $0["n"] as Int) }, uniquingKeysWith: { a, _ in a })
    }

    /// How many cases one vendor has.
    func count(vendorID: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM cases WHERE vendor_id = ?", arguments: [vendorID]) ?? 0
    }
}
