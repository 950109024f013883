public import Foundation
public import GRDB
public import VaultCrypto

/// One decrypted share-history entry.
public struct AuditEntry: Sendable, Equatable {
    public var seq: Int64
    public var at: Date
    public var event: String
    public var body: AuditBody
}

/// Which entries `vrm audit` shows.
public struct AuditFilter: Sendable {
    public var vendorName: String?
    public var grantID: String?
    public var since: Date?

    public init(vendorName: String? = nil, grantID: String? = nil, since: Date? = nil) {
        self.vendorName = vendorName
        self.grantID = grantID
        self.since = since
    }
}

extension Vault {
    /// Decrypts the share history (one `crypto_box_beforenm` per writer, then symmetric per entry),
    /// filling in vendor and scopes for entries the server wrote, and applies `filter`.
    public func auditEntries(_ filter: AuditFilter = AuditFilter()) throws -> [AuditEntry] {
        try database.read { db in
            var writers: [String: PrecomputedBox] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, public_key FROM audit_writers") {
                writers[row["id"]] = try? PrecomputedBox(publicKey: row.bytes("public_key"), secretKey: keys.box.secretKey)
            }
            let boxes = writers
            let grantsByID = Dictionary(try grants(db).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let vendorID = try filter.vendorName.map { try vendor(named: $0, db).id }
            let statement: RawStatement
            if let since = filter.since {
                statement = try RawStatement(db, "SELECT seq, at, event, writer_id, body FROM audit WHERE at >= ?1 ORDER BY seq")
                statement.bind(1, Millis.from(since))
            } else {
                statement = try RawStatement(db, "SELECT seq, at, event, writer_id, body FROM audit ORDER BY seq")
            }
            // Read in order on this thread; each chunk of entries is decrypted on another.
            let chunks = try Self.pipelined(statement, read: { ($0.int64(0), $0.int64(1), $0.text(2), $0.text(3), $0.bytes(4)) }) { rows in
                var entries: [AuditEntry] = []
                for (seq, at, event, writerID, sealed) in rows {
                    guard let box = boxes[writerID], let plain = try? box.open(sealed),
                          var body = try? Vault.decodeRecord(AuditBody.self, plain)
                    else { throw VaultError.tampered(table: "audit", id: String(seq)) }
                    if let id = body.grantID, let grant = grantsByID[id] {
                        body.vendorID = body.vendorID ?? grant.vendorID
                        body.vendor = body.vendor ?? grant.vendorName
                        body.scopes = body.scopes ?? grant.scopes.map(\.description)
                        body.purpose = body.purpose ?? grant.purpose.rawValue
                    }
                    if let grantID = filter.grantID, body.grantID != grantID { continue }
                    if let vendorID, body.vendorID != vendorID { continue }
                    entries.append(AuditEntry(seq: seq, at: Millis.date(at), event: event, body: body))
                }
                return entries
            }
            return chunks.flatMap { $0 }
        }
    }
}

/// The outcome of checking the share history.
public enum AuditVerification: Sendable, Equatable {
    /// Every entry chains to the previous one and the checkpoint (if any) is in the history.
    case intact(entries: Int64, lastHash: [UInt8])
    /// `firstBad` is the first sequence number that fails; `reason` says how.
    case broken(firstBad: Int64, reason: String)
}

/// Checks the hash chain. Needs no passphrase: anyone holding the file can verify it.
public enum AuditVerifier {
    public static func verify(_ database: VaultDatabase, checkpoint: AuditCheckpoint?) throws -> AuditVerification {
        try database.read { db in
            var expected: Int64 = 1
            var previous = AuditChain.genesis
            var hashAtCheckpoint: [UInt8]?
            // Stepped through SQLite's C API: the chain is serial, and GRDB's row cursor cost
            // more than the hashing on 100k entries.
            let statement = try RawStatement(db, "SELECT seq, at, event, writer_id, body, hash FROM audit ORDER BY seq")
            defer { statement.reset() }
            while try statement.step() {
                let seq = statement.int64(0)
                guard seq == expected else {
                    return .broken(firstBad: expected, reason: seq > expected ? "entry \(expected) is missing (deleted)" : "sequence out of order")
                }
                let hash = AuditChain.entryHash(previous: previous, seq: seq, atMillis: statement.int64(1), event: statement.text(2),
                                                writerID: statement.text(3), body: statement.bytes(4))
                guard constantTimeEquals(hash, statement.bytes(5)) else {
                    return .broken(firstBad: seq, reason: "entry \(seq) does not match its hash chain (edited, swapped or inserted)")
                }
                if seq == checkpoint?.seq { hashAtCheckpoint = hash }
                previous = hash
                expected += 1
            }
            if let checkpoint {
                guard checkpoint.seq < expected else {
                    return .broken(firstBad: expected, reason: "the history ends at entry \(expected - 1) but entry \(checkpoint.seq) was recorded earlier: truncated or rolled back")
                }
                guard let hashAtCheckpoint, constantTimeEquals(hashAtCheckpoint, checkpoint.hash) else {
                    return .broken(firstBad: checkpoint.seq, reason: "entry \(checkpoint.seq) differs from the recorded checkpoint: history rewritten or rolled back")
                }
            }
            return .intact(entries: expected - 1, lastHash: previous)
        }
    }
}
