import Foundation
import GRDB

/// The redemption store of `vrm serve`: the vault file itself. Every transaction runs the same
/// few statements, kept prepared and driven through SQLite's C API (`RawStatement`), and
/// begins and commits through `VaultDatabase.writeDirect`: GRDB's row and transaction
/// machinery cost several times the SQL itself here (measured with `vrm-bench redeem`).
struct SQLiteRedemptionStore: RedemptionStore {
    let database: VaultDatabase

    var vaultID: [UInt8] { database.header.vaultID }
    var vaultBoxPublicKey: [UInt8] { database.header.boxPublicKey }

    func write<T>(_ body: (any RedemptionTransaction) throws -> T) throws -> T {
        try database.writeDirect { db in try body(try Transaction(db)) }
    }

    func isReady() -> Bool {
        (try? database.read { transaction in try transaction.header.isPresent() }) == true
    }

    func canWrite() -> Bool {
        (try? database.write { transaction in try transaction.rewriteUserVersion() }) != nil
    }

    /// The statements of one write transaction.
    final class Transaction: RedemptionTransaction {
        private let lookup: RawStatement
        private let guardedCount: RawStatement
        private let registerWriter: RawStatement
        private let lastEntry: RawStatement
        private let appendEntry: RawStatement

        /// A grant (the columns `GrantRecord` reads), its row number and its share.
        static let lookupSQL = """
            SELECT \(GrantRecord.columns.split(separator: ",").map { "g." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")),
                g.rowid, s.version, s.body
            FROM grants AS g LEFT JOIN shares AS s ON s.grant_id = g.id WHERE g.selector = ?
            """

        /// Counts ?5 uses only if the grant is still active with that many uses left and its
        /// share is still at version ?4.
        static let guardedCountSQL = """
            UPDATE grants SET use_count = use_count + ?5
            WHERE rowid = ?1 AND id = ?2 AND \(GrantStateSQL.active(now: "?3", uses: "?5")) AND share_version = ?4
            """

        init(_ db: Database) throws {
            registerWriter = try RawStatement(db, AuditTable.registerSQL)
            lastEntry = try RawStatement(db, AuditTable.lastEntrySQL)
            lookup = try RawStatement(db, Self.lookupSQL)
            guardedCount = try RawStatement(db, Self.guardedCountSQL)
            appendEntry = try RawStatement(db, AuditTable.insertSQL)
        }

        func redeemableGrant(selector: [UInt8]) throws -> RedeemableGrant? {
            lookup.bind(1, selector)
            defer { lookup.reset() }
            guard try lookup.step() else { return nil }
            let record = try GrantRecord(lookup)
            let extra = Int32(GrantRecord.columnCount)
            let share: (version: Int, body: [UInt8])?
            if lookup.isNull(extra + 1) {
                share = nil
            } else {
                share = (
                    Int(truncatingIfNeeded: try lookup.integer(extra + 1, "version", of: "shares", row: record.id)),
                    try lookup.blob(extra + 2, "body", of: "shares", row: record.id)
                )
            }
            return RedeemableGrant(
                key: .init(row: lookup.int64(extra), id: record.id), secretHash: record.secretHash,
                binding: GrantBinding(rawValue: record.binding) ?? .bearer, revokedAt: record.revokedAt, expiresAt: record.expiresAt,
                maxUses: record.maxUses, useCount: record.useCount, share: share, bindsPolicy: record.statusSealed != nil)
        }

        func countUses(_ uses: Int, of grant: RedeemableGrant.Key, nowMillis: Int64, version: Int) throws -> Bool {
            guardedCount.bind(1, grant.row)
            guardedCount.bind(2, grant.id)
            guardedCount.bind(3, nowMillis)
            guardedCount.bind(4, Int64(version))
            guardedCount.bind(5, Int64(uses))
            try guardedCount.run()
            return guardedCount.changes == 1
        }

        func registerAuditWriter(id: String, publicKey: [UInt8], atMillis: Int64) throws {
            try AuditTable.register(registerWriter, id: id, publicKey: publicKey, atMillis: atMillis)
        }

        func lastAuditEntry() throws -> AuditWriter.Tip? {
            try AuditTable.last(lastEntry)
        }

        func appendAuditEntry(_ entry: AuditRecord) throws {
            try AuditTable.insert(entry, appendEntry)
        }
    }
}
