import Foundation
import GRDB

/// The `cases` table: one sealed row per support case (with its whole timeline), with its
/// vendor's id in the clear (the share of `cases:own` selects by it).
struct CasesTable {
    let db: Database
    private var rows: VendorRecordRows { VendorRecordRows(db: db, table: "cases") }

    func insert(id: String, vendorID: String, sealed: [UInt8], createdAt: Int64, updatedAt: Int64) throws {
        try db.execute(
            sql: "INSERT INTO cases (id, vendor_id, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [id, vendorID, Data(sealed), createdAt, updatedAt])
    }

    /// The case with this id, or nil.
    func row(id: String) throws -> SealedRow? { try rows.row(id: id) }
    /// Every case, or one vendor's.
    func rows(vendorID: String?) throws -> [SealedRow] { try rows.rows(vendorID: vendorID) }
    func update(id: String, sealed: [UInt8], updatedAt: Int64) throws { try rows.update(id: id, sealed: sealed, updatedAt: updatedAt) }
    func delete(id: String) throws { try rows.delete(id: id) }
    /// How many cases each vendor has.
    func countsByVendor() throws -> [String: Int] { try rows.countsByVendor() }
    /// How many cases one vendor has.
    func count(vendorID: String) throws -> Int { try rows.count(vendorID: vendorID) }
}
