import Foundation
import GRDB

/// The `vendors` table: one sealed row per vendor, found by the keyed hash of its normalised
/// name (`name_index`).
struct VendorsTable {
    let db: Database

    /// Whether a vendor has this name index.
    func exists(nameIndex: [UInt8]) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM vendors WHERE name_index = ?", arguments: [Data(nameIndex)]) ?? false
    }

    func insert(id: String, nameIndex: [UInt8], sealed: [UInt8], createdAt: Int64, updatedAt: Int64) throws {
        try db.execute(
            sql: "INSERT INTO vendors (id, name_index, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [id, Data(nameIndex), Data(sealed), createdAt, updatedAt])
    }

    /// The vendor with this name index, or nil.
    func row(nameIndex: [UInt8]) throws -> SealedRow? {
        try SealedRow.all(db, "SELECT id, sealed FROM vendors WHERE name_index = ?1", of: "vendors") { $0.bind(1, nameIndex) }.first
    }

    /// The vendor with this id, or nil.
    func row(id: String) throws -> SealedRow? {
        try SealedRow.all(db, "SELECT id, sealed FROM vendors WHERE id = ?1", of: "vendors") { $0.bind(1, id) }.first
    }

    /// Every vendor.
    func all() throws -> [SealedRow] {
        try SealedRow.all(db, "SELECT id, sealed FROM vendors", of: "vendors")
    }

    func update(id: String, sealed: [UInt8], updatedAt: Int64) throws {
        try db.execute(sql: "UPDATE vendors SET sealed = ?, updated_at = ? WHERE id = ?", arguments: [Data(sealed), updatedAt, id])
    }

    func delete(id: String) throws {
        try db.execute(sql: "DELETE FROM vendors WHERE id = ?", arguments: [id])
    }

    /// Replaces a row's name index and sealed value, keeping its times (key rotation).
    func reseal(id: String, nameIndex: [UInt8], sealed: [UInt8]) throws {
        try db.execute(sql: "UPDATE vendors SET name_index = ?, sealed = ? WHERE id = ?", arguments: [Data(nameIndex), Data(sealed), id])
    }
}
