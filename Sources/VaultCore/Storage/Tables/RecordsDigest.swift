import GRDB
import VaultCrypto

/// What only the CLI writes, row by row, for the records digest (format 2,
/// `Specs/vault-format.md` §4): every column of every row of these tables, in primary-key
/// order — except `grants.use_count`, which the server counts. The digest, keyed and sealed in
/// the header, tells when a row was put back from an older copy, deleted or inserted by someone
/// without the key.
extension StorageTransaction {
    static let digestedTables: [(table: String, order: String)] = [
        ("profile", "id"), ("vendors", "id"), ("purchases", "id"), ("cases", "id"), ("grants", "id"), ("shares", "grant_id"),
        ("retired_keys", "id"),
    ]
    /// Tables added after format 2 (the relay link, `Specs/relay.md`): fed only when they hold
    /// rows, so that the digest of a vault that never used them stays what it was.
    /// Then the request links (but `used_at`, which the endpoint sets), vendors' webhooks and
    /// the notification settings (`Specs/requests.md`).
    static let laterTables: [(table: String, order: String, skipped: String?)] = [
        ("relay_link", "id", nil), ("relay_outbox", "grant_id", nil), ("request_links", "selector", "used_at"),
        ("grant_notify", "grant_id", nil), ("notify_settings", "id", nil),
    ]

    /// What `feedRecords` feeds for a vault with no rows (a new vault's header carries it).
    static func feedNoRecords(into input: inout BLAKE2b.Input) {
        input.append(utf8: "vrm-records-v1")
        for (table, _) in digestedTables {
            input.append(utf8: table)
            input.append([0, 2])
        }
    }

    /// Feeds `"vrm-records-v1"`, then per table its name, `00`, each row as `01` and its
    /// columns (`RawStatement.feed`), and `02`.
    func feedRecords(into input: inout BLAKE2b.Input) throws {
        input.append(utf8: "vrm-records-v1")
        for (table, order) in Self.digestedTables {
            input.append(utf8: table)
            input.append([0])
            let statement = try RawStatement(db, "SELECT * FROM \(table) ORDER BY \(order)")
            defer { statement.reset() }
            let columns = statement.columnCount
            let skipped: Int32? = table == "grants" ? (0..<columns).first { statement.columnName($0) == "use_count" } : nil
            while try statement.step() {
                input.append([1])
                for column in 0..<columns where column != skipped { statement.feed(column, into: &input) }
            }
            input.append([2])
        }
        for (table, order, skippedName) in Self.laterTables {
            let statement = try RawStatement(db, "SELECT * FROM \(table) ORDER BY \(order)")
            defer { statement.reset() }
            let skipped = skippedName.flatMap { name in (0..<statement.columnCount).first { statement.columnName($0) == name } }
            var first = true
            while try statement.step() {
                if first {
                    input.append(utf8: table)
                    input.append([0])
                    first = false
                }
                input.append([1])
                for column in 0..<statement.columnCount where column != skipped { statement.feed(column, into: &input) }
            }
            if !first { input.append([2]) }
        }
    }
}
