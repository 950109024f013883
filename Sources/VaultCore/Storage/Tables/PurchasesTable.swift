import Foundation
import GRDB

/// The `purchases` table: one sealed row per purchase, with its vendor's id in the clear (the
/// share of `purchases:own` selects by it) and a keyed hash of vendor + order + item
/// (`dedupe_index`) so a re-import is recognised.
struct PurchasesTable {
    let db: Database

    /// Whether a purchase has this dedupe index.
    func exists(dedupeIndex: [UInt8]) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM purchases WHERE dedupe_index = ?", arguments: [Data(dedupeIndex)]) ?? false
    }

    func insert(id: String, vendorID: String, dedupeIndex: [UInt8]?, sealed: [UInt8], createdAt: Int64, updatedAt: Int64) throws {
        try db.execute(
            sql: "INSERT INTO purchases (id, vendor_id, dedupe_index, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [id, vendorID, dedupeIndex.map { Data($0) }, Data(sealed), createdAt, updatedAt])
    }

    /// The purchase with this id, or nil.
    func row(id: String) throws -> SealedRow? {
        try Row.fetchOne(db, sql: "SELECT id, sealed FROM purchases WHERE id = ?", arguments: [id])?.sealedRow
    }

    /// Every purchase, or one vendor's.
    func rows(vendorID: String?) throws -> [SealedRow] {
        guard let vendorID else { return try Row.fetchAll(db, sql: "SELECT id, sealed FROM purchases").map(\.sealedRow) }
        return try Row.fetchAll(db, sql: "SELECT id, sealed FROM purchases WHERE vendor_id = ?", arguments: [vendorID]).map(\.sealedRow)
    }

    /// Every purchase (or one vendor's) handed to `process` in chunks on other threads while
    /// the next rows are read (`pipelined`): the path for bulk reads (reports, shares of all
    /// purchases, exports). The results in chunk order.
    func pipelined<R: Sendable>(vendorID: String?, _ process: @escaping @Sendable ([SealedRow]) throws -> R) throws -> [R] {
        let statement: RawStatement
        if let vendorID {
            statement = try RawStatement(db, "SELECT id, sealed FROM purchases WHERE vendor_id = ?1")
            statement.bind(1, vendorID)
        } else {
            statement = try RawStatement(db, "SELECT id, sealed FROM purchases")
        }
        return try SQLiteReads.pipelined(statement, read: { SealedRow(id: $0.text(0), sealed: $0.bytes(1)) }, process: process)
    }

    func update(id: String, sealed: [UInt8], updatedAt: Int64) throws {
        try db.execute(sql: "UPDATE purchases SET sealed = ?, updated_at = ? WHERE id = ?", arguments: [Data(sealed), updatedAt, id])
    }

    func delete(id: String) throws {
        try db.execute(sql: "DELETE FROM purchases WHERE id = ?", arguments: [id])
    }

    /// How many purchases each vendor has.
    func countsByVendor() throws -> [String: Int] {
        Dictionary(try Row.fetchAll(db, sql: "SELECT vendor_id, count(*) AS n FROM purchases GROUP BY vendor_id")
            .map { ($0["vendor_id"] as String, $0["n"] as Int) }, uniquingKeysWith: { a, _ in a })
    }

    /// How many purchases one vendor has.
    func count(vendorID: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM purchases WHERE vendor_id = ?", arguments: [vendorID]) ?? 0
    }
}
