import Foundation
import GRDB

/// The `profile` table: one sealed row per profile field, found by the keyed hash of its key
/// (`key_index`), never by the key itself.
struct ProfileTable {
    let db: Database

    /// The row id of the field with this key index, or nil. Reads the id alone, so a field
    /// whose sealed value is damaged can still be set anew.
    func id(keyIndex: [UInt8]) throws -> String? {
        let statement = try RawStatement(db, "SELECT id FROM profile WHERE key_index = ?1")
        statement.bind(1, keyIndex)
        defer { statement.reset() }
        return try statement.step() ? try statement.text(0, "id", of: "profile") : nil
    }

    /// The sealed field with this key index, or nil.
    func row(keyIndex: [UInt8]) throws -> SealedRow? {
        try SealedRow.all(db, "SELECT id, sealed FROM profile WHERE key_index = ?1", of: "profile") { $0.bind(1, keyIndex) }.first
    }

    /// Every sealed field.
    func all() throws -> [SealedRow] {
        try SealedRow.all(db, "SELECT id, sealed FROM profile", of: "profile")
    }

    /// Inserts the field, or replaces the sealed value of the row with this id.
    func upsert(id: String, keyIndex: [UInt8], sealed: [UInt8], updatedAt: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO profile (id, key_index, sealed, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                """,
            arguments: [id, Data(keyIndex), Data(sealed), updatedAt])
    }

    /// Deletes the field with this key index; false when there was none.
    func delete(keyIndex: [UInt8]) throws -> Bool {
        try db.execute(sql: "DELETE FROM profile WHERE key_index = ?", arguments: [Data(keyIndex)])
        return db.changesCount > 0
    }

    /// Replaces a row's key index and sealed value, keeping its time (key rotation).
    func reseal(id: String, keyIndex: [UInt8], sealed: [UInt8]) throws {
        try db.execute(sql: "UPDATE profile SET key_index = ?, sealed = ? WHERE id = ?", arguments: [Data(keyIndex), Data(sealed), id])
    }
}
