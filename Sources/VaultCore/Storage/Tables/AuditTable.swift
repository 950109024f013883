import Foundation
import GRDB

/// The share history: the `audit` table (the hash chain of sealed entries) and the
/// `audit_writers` table (each writer's public key, which the vault key needs to open its
/// entries).
struct AuditTable: AuditSink {
    let db: Database

    static let registerSQL = "INSERT OR IGNORE INTO audit_writers (id, public_key, created_at) VALUES (?, ?, ?)"
    static let lastEntrySQL = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
    static let insertSQL = "INSERT INTO audit (seq, at, event, writer_id, body, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?)"
    static let entryColumns = "seq, at, event, writer_id, body, hash, mac"

    func registerAuditWriter(id: String, publicKey: [UInt8], atMillis: Int64) throws {
        try Self.register(RawStatement(db, Self.registerSQL), id: id, publicKey: publicKey, atMillis: atMillis)
    }

    func lastAuditEntry() throws -> AuditWriter.Tip? {
        try Self.last(RawStatement(db, Self.lastEntrySQL))
    }

    func appendAuditEntry(_ entry: AuditRecord) throws {
        try Self.insert(entry, RawStatement(db, Self.insertSQL))
    }

    /// The hash of entry `seq`, or nil when there is none.
    func hash(seq: Int64) throws -> [UInt8]? {
        let statement = try RawStatement(db, "SELECT hash FROM audit WHERE seq = ?1")
        statement.bind(1, seq)
        defer { statement.reset() }
        return try statement.step() ? try statement.blob(0, "hash", of: "audit", row: String(seq)) : nil
    }

    /// Sets the MAC of entry `seq` (the format migration authenticates the CLI's older entries).
    func setMAC(seq: Int64, mac: [UInt8]) throws {
        try db.execute(sql: "UPDATE audit SET mac = ? WHERE seq = ?", arguments: [Data(mac), seq])
    }

    /// Every writer's id and public key.
    func writers() throws -> [(id: String, publicKey: [UInt8])] {
        let statement = try RawStatement(db, "SELECT id, public_key FROM audit_writers")
        defer { statement.reset() }
        var writers: [(id: String, publicKey: [UInt8])] = []
        while try statement.step() {
            let id = try statement.text(0, "id", of: "audit_writers")
            writers.append((id, try statement.blob(1, "public_key", of: "audit_writers", row: id)))
        }
        return writers
    }

    /// Whether any entry carries a MAC (only format 2 writes them).
    func hasMACs() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM audit WHERE mac IS NOT NULL)") ?? false
    }

    /// How many entries there are, and the smallest and largest sequence numbers (0 when empty).
    func extent() throws -> (count: Int64, smallest: Int64, largest: Int64) {
        let statement = try RawStatement(db, "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM audit")
        defer { statement.reset() }
        guard try statement.step() else { return (0, 0, 0) }
        return (statement.int64(0), statement.int64(1), statement.int64(2))
    }

    /// How many entries the history holds.
    func count() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM audit") ?? 0
    }

    /// Every entry (from `sinceMillis` on, when given) in sequence order, each with the stored
    /// hash and sequence number of the entry before it (`previousHash`, `previousSeq`: SQL's
    /// `LAG`, so each link of the chain can be checked on its own), handed to `process` in
    /// chunks on other threads while the next are read (`SQLiteReads.pipelined`). Results in
    /// chunk order.
    func pipelined<R: Sendable>(sinceMillis: Int64?, _ process: @escaping @Sendable ([AuditRecord]) throws -> R) throws -> [R] {
        let linked = """
            SELECT \(Self.entryColumns), LAG(hash) OVER (ORDER BY seq) AS previous_hash, LAG(seq) OVER (ORDER BY seq) AS previous_seq
            FROM audit
            """
        let statement: RawStatement
        if let sinceMillis {
            statement = try RawStatement(db, "SELECT * FROM (\(linked)) WHERE at >= ?1 ORDER BY seq")
            statement.bind(1, sinceMillis)
        } else {
            statement = try RawStatement(db, "\(linked) ORDER BY seq")
        }
        return try SQLiteReads.pipelined(
            statement,
            read: { s in
                var record = try Self.record(s)
                let row = String(record.seq)
                record.previousHash = try s.optionalBlob(7, "hash", of: "audit", row: row)
                record.previousSeq = try s.optionalInteger(8, "seq", of: "audit", row: row)
                return record
            }, process: process)
    }

    /// Every entry after `seq` (all, by default) in sequence order, one at a time on this
    /// thread, until `visit` returns false. Stepped through SQLite's C API: the chain check is
    /// serial, and GRDB's row cursor cost more than the hashing on 100k entries.
    func scan(after seq: Int64 = Int64.min, _ visit: (AuditRecord) throws -> Bool) throws {
        let statement = try RawStatement(db, "SELECT \(Self.entryColumns) FROM audit WHERE seq > ?1 ORDER BY seq")
        statement.bind(1, seq)
        defer { statement.reset() }
        while try statement.step() {
            guard try visit(try Self.record(statement)) else { return }
        }
    }

    private static func record(_ s: RawStatement) throws -> AuditRecord {
        let seq = try s.integer(0, "seq", of: "audit")
        let row = String(seq)
        return AuditRecord(
            seq: seq, atMillis: try s.integer(1, "at", of: "audit", row: row), event: try s.text(2, "event", of: "audit", row: row),
            writerID: try s.text(3, "writer_id", of: "audit", row: row), body: try s.blob(4, "body", of: "audit", row: row),
            hash: try s.blob(5, "hash", of: "audit", row: row), mac: try s.optionalBlob(6, "mac", of: "audit", row: row))
    }

    // The statements, for callers that keep them prepared across a batch (`SQLiteRedemptionStore`).

    static func register(_ statement: RawStatement, id: String, publicKey: [UInt8], atMillis: Int64) throws {
        statement.bind(1, id)
        statement.bind(2, publicKey)
        statement.bind(3, atMillis)
        try statement.run()
    }

    static func last(_ statement: RawStatement) throws -> AuditWriter.Tip? {
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        let seq = try statement.integer(0, "seq", of: "audit")
        return AuditWriter.Tip(seq: seq, hash: try statement.blob(1, "hash", of: "audit", row: String(seq)))
    }

    static func insert(_ entry: AuditRecord, _ statement: RawStatement) throws {
        statement.bind(1, entry.seq)
        statement.bind(2, entry.atMillis)
        statement.bind(3, entry.event)
        statement.bind(4, entry.writerID)
        statement.bind(5, entry.body)
        statement.bind(6, entry.hash)
        statement.bind(7, entry.mac)
        try statement.run()
    }
}
