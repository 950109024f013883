import Foundation
import GRDB

/// The `purchases` table: one sealed row per purchase, with its vendor's id in the clear (the
/// share of `purchases:own` selects by it) and a keyed hash of vendor + order + item
/// (`dedupe_index`) so a re-import is recognised.
struct PurchasesTable: VendorRecordRows {
    static let table = "purchases"
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

    /// Every purchase (or one vendor's) handed to `process` in chunks on other threads while
    /// the next rows are read (`SQLiteReads.pipelined`): the path for bulk reads (reports,
    /// shares of all purchases, exports). The results in chunk order.
    func pipelined<R: Sendable>(vendorID: String?, _ process: @escaping @Sendable ([SealedRow]) throws -> R) throws -> [R] {
        let statement: RawStatement
        if let vendorID {
            statement = try RawStatement(db, "SELECT id, sealed, vendor_id FROM purchases WHERE vendor_id = ?1")
            statement.bind(1, vendorID)
        } else {
            statement = try RawStatement(db, "SELECT id, sealed, vendor_id FROM purchases")
        }
        return try SQLiteReads.pipelined(statement, read: { try SealedRow($0, of: "purchases", owner: true) }, process: process)
    }

    /// Replaces a row's dedupe index and sealed value, keeping its times (key rotation).
    func reseal(id: String, dedupeIndex: [UInt8]?, sealed: [UInt8]) throws {
        try db.execute(
            sql: "UPDATE purchases SET dedupe_index = ?, sealed = ? WHERE id = ?", arguments: [dedupeIndex.map { Data($0) }, Data(sealed), id])
    }
}
