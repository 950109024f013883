import Foundation
import GRDB

/// The `cases` table: one sealed row per support case (with its whole timeline), with its
/// vendor's id in the clear (the share of `cases:own` selects by it).
struct CasesTable: VendorRecordRows {
    static let table = "cases"
    let db: Database

    func insert(id: String, vendorID: String, sealed: [UInt8], createdAt: Int64, updatedAt: Int64) throws {
        try db.execute(
            sql: "INSERT INTO cases (id, vendor_id, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [id, vendorID, Data(sealed), createdAt, updatedAt])
    }
}
