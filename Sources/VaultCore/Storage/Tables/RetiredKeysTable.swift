import Foundation
import GRDB

/// The `retired_keys` table (format 2): each X25519 key pair a key rotation replaced, its
/// secret sealed under the identity subkey of the current master key, so history entries boxed
/// to it still open.
struct RetiredKeysTable {
    let db: Database

    /// A retired key: its id, public key and sealed secret.
    struct Row {
        var id: String
        var publicKey: [UInt8]
        var secretSealed: [UInt8]
        var retiredAt: Int64
    }

    func all() throws -> [Row] {
        // The table arrives with migration v3-authenticated; a read-only probe may predate it.
        guard try db.tableExists("retired_keys") else { return [] }
        let statement = try RawStatement(db, "SELECT id, box_public_key, box_secret_sealed, retired_at FROM retired_keys ORDER BY retired_at, id")
        defer { statement.reset() }
        var rows: [Row] = []
        while try statement.step() {
            let id = try statement.text(0, "id", of: "retired_keys")
            rows.append(
                Row(
                    id: id, publicKey: try statement.blob(1, "box_public_key", of: "retired_keys", row: id),
                    secretSealed: try statement.blob(2, "box_secret_sealed", of: "retired_keys", row: id),
                    retiredAt: try statement.integer(3, "retired_at", of: "retired_keys", row: id)))
        }
        return rows
    }

    /// Replaces every row (a rotation re-seals them all under the new key).
    func replaceAll(_ rows: [Row]) throws {
        try db.execute(sql: "DELETE FROM retired_keys")
        for row in rows {
            try db.execute(
                sql: "INSERT INTO retired_keys (id, box_public_key, box_secret_sealed, retired_at) VALUES (?, ?, ?, ?)",
                arguments: [row.id, Data(row.publicKey), Data(row.secretSealed), row.retiredAt])
        }
    }
}
