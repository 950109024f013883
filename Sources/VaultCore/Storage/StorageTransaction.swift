import Foundation
import GRDB

/// One read or write transaction on the vault file, as the features see it: a table type per
/// table, each the only code that reads or writes its rows. Handed out by `VaultDatabase.read`
/// and `VaultDatabase.write`; valid only inside that call.
struct StorageTransaction {
    let db: Database

    var header: HeaderTable { HeaderTable(db: db) }
    var profile: ProfileTable { ProfileTable(db: db) }
    var vendors: VendorsTable { VendorsTable(db: db) }
    var purchases: PurchasesTable { PurchasesTable(db: db) }
    var cases: CasesTable { CasesTable(db: db) }
    /// The `grants` table and the `shares` table that holds each grant's current share.
    var grants: GrantsTable { GrantsTable(db: db) }
    /// The `audit` table (the share history) and the `audit_writers` table.
    var audit: AuditTable { AuditTable(db: db) }

    /// Writes the database header's `user_version` back unchanged: a commit that needs a WAL
    /// frame on disk (so it fails on a full disk or a read-only file) and changes nothing. (An
    /// UPDATE that changes no value writes nothing, so it could not tell.)
    func rewriteUserVersion() throws {
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        try db.execute(sql: "PRAGMA user_version = \(version)")
    }

    /// Profile fields, vendors, purchases and cases together (an import needs a vault without any).
    func recordCount() throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT (SELECT count(*) FROM profile) + (SELECT count(*) FROM vendors)
                     + (SELECT count(*) FROM purchases) + (SELECT count(*) FROM cases)
                """) ?? 0
    }
}

/// A sealed record as stored: its row id and its ciphertext (`sealed`).
struct SealedRow: Sendable {
    let id: String
    let sealed: [UInt8]
}

extension SealedRow {
    /// The `id, sealed` columns at the statement's current step, read strictly.
    init(_ statement: RawStatement, of table: String) throws {
        id = try statement.text(0, "id", of: table)
        sealed = try statement.blob(1, "sealed", of: table, row: id)
    }

    /// Every `id, sealed` row `sql` selects (parameters bound by `bind`), read strictly.
    static func all(_ db: Database, _ sql: String, of table: String, bind: (RawStatement) -> Void = { _ in }) throws -> [SealedRow] {
        let statement = try RawStatement(db, sql)
        bind(statement)
        defer { statement.reset() }
        var rows: [SealedRow] = []
        while try statement.step() { rows.append(try SealedRow(statement, of: table)) }
        return rows
    }
}
