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
    /// X25519 keys replaced by key rotations, kept sealed to open older history entries.
    var retiredKeys: RetiredKeysTable { RetiredKeysTable(db: db) }

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
    /// For `purchases` and `cases`: the plaintext `vendor_id` the row was selected by, which
    /// the reader compares with the vendor inside the sealed record.
    var owner: String? = nil
}

extension SealedRow {
    /// The `id, sealed` (and, with `owner`, `vendor_id`) columns at the statement's current
    /// step, read strictly.
    init(_ statement: RawStatement, of table: String, owner: Bool = false) throws {
        id = try statement.text(0, "id", of: table)
        sealed = try statement.blob(1, "sealed", of: table, row: id)
        if owner { self.owner = try statement.text(2, "vendor_id", of: table, row: id) }
    }

    /// Every row `sql` selects (parameters bound by `bind`), read strictly.
    static func all(
        _ db: Database, _ sql: String, of table: String, owner: Bool = false, bind: (RawStatement) -> Void = { _ in }
    ) throws -> [SealedRow] {
        let statement = try RawStatement(db, sql)
        bind(statement)
        defer { statement.reset() }
        var rows: [SealedRow] = []
        while try statement.step() { rows.append(try SealedRow(statement, of: table, owner: owner)) }
        return rows
    }

    /// Throws `mismatch` unless the sealed record's own id and vendor are this row's: a record
    /// moved to another vendor in the clear is not shared, listed or counted as that vendor's.
    func checkOwner(id sealedID: String, vendorID sealedVendor: String, table: String) throws {
        guard sealedID == id else { throw VaultError.mismatch(table: table, id: id, column: "column id") }
        if let owner, owner != sealedVendor { throw VaultError.mismatch(table: table, id: id, column: "column vendor_id") }
    }
}
