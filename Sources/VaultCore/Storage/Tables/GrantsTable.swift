import Foundation
import GRDB

/// One `grants` row, decoded in one place (`init(_:from:)`) for every reader: the consent
/// engine, the reports and the redemption store. Policy columns are plaintext (the server
/// enforces them without the vault key); who and what are in `sealed`.
struct GrantRecord: Sendable {
    /// The columns `init(_:from:)` reads, in order.
    static let columns =
        "id, selector, secret_hash, binding, created_at, expires_at, max_uses, use_count, revoked_at, share_version, sealed, share_key_sealed, status_sealed"
    /// How many columns `columns` names.
    static let columnCount = 13

    var id: String
    var selector: [UInt8]
    var secretHash: [UInt8]
    var binding: String
    var createdAt: Int64
    var expiresAt: Int64?
    var maxUses: Int?
    var useCount: Int
    var revokedAt: Int64?
    var shareVersion: Int
    /// The sealed `GrantMetadata`.
    var sealed: [UInt8]
    /// The bearer share key, sealed under the grant key; nil for key-bound and inactive grants.
    var shareKeySealed: [UInt8]?
    /// Format 2: the sealed `GrantStatus` (share version, revocation). nil in a format-1 row.
    var statusSealed: [UInt8]?

    /// The row at the statement's current step, its columns `columns` from `first` on; a
    /// value of the wrong type is a corrupt vault.
    init(_ s: RawStatement, from first: Int32 = 0) throws {
        let t = "grants"
        id = try s.text(first, "id", of: t)
        selector = try s.blob(first + 1, "selector", of: t, row: id)
        secretHash = try s.blob(first + 2, "secret_hash", of: t, row: id)
        binding = try s.text(first + 3, "binding", of: t, row: id)
        createdAt = try s.integer(first + 4, "created_at", of: t, row: id)
        expiresAt = try s.optionalInteger(first + 5, "expires_at", of: t, row: id)
        maxUses = try s.optionalInteger(first + 6, "max_uses", of: t, row: id).map { Int(truncatingIfNeeded: $0) }
        useCount = Int(truncatingIfNeeded: try s.integer(first + 7, "use_count", of: t, row: id))
        revokedAt = try s.optionalInteger(first + 8, "revoked_at", of: t, row: id)
        shareVersion = Int(truncatingIfNeeded: try s.integer(first + 9, "share_version", of: t, row: id))
        sealed = try s.blob(first + 10, "sealed", of: t, row: id)
        shareKeySealed = try s.optionalBlob(first + 11, "share_key_sealed", of: t, row: id)
        statusSealed = try s.optionalBlob(first + 12, "status_sealed", of: t, row: id)
    }

    init(
        id: String, selector: [UInt8], secretHash: [UInt8], binding: String, createdAt: Int64, expiresAt: Int64?, maxUses: Int?,
        sealed: [UInt8], shareKeySealed: [UInt8]?, statusSealed: [UInt8]?
    ) {
        self.statusSealed = statusSealed
        self.id = id
        self.selector = selector
        self.secretHash = secretHash
        self.binding = binding
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.maxUses = maxUses
        self.useCount = 0
        self.revokedAt = nil
        self.shareVersion = 0
        self.sealed = sealed
        self.shareKeySealed = shareKeySealed
    }

    /// The state at `nowMillis` (`GrantState.evaluate`).
    func state(nowMillis: Int64) -> GrantState {
        GrantState.evaluate(revokedAt: revokedAt, expiresAt: expiresAt, maxUses: maxUses, useCount: useCount, nowMillis: nowMillis)
    }
}

/// The `grants` table and the `shares` table (each grant's current share, sealed).
struct GrantsTable {
    let db: Database

    /// Stores a new grant (no uses, share version 0 until its share is stored).
    func insert(_ grant: GrantRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO grants (id, selector, secret_hash, binding, created_at, expires_at, max_uses, use_count,
                    share_version, sealed, share_key_sealed, status_sealed)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?)
                """,
            arguments: [
                grant.id, Data(grant.selector), Data(grant.secretHash), grant.binding, grant.createdAt, grant.expiresAt, grant.maxUses,
                Data(grant.sealed), grant.shareKeySealed.map { Data($0) }, grant.statusSealed.map { Data($0) },
            ])
        try queueForRelay(grant.id)
    }

    /// While the vault is linked to a relay, queues the grant for it (`relay_outbox`), in the
    /// transaction that changes the grant: issue, share change, revocation.
    private func queueForRelay(_ id: String) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO relay_outbox (grant_id) SELECT ? WHERE EXISTS (SELECT 1 FROM relay_link)", arguments: [id])
    }

    /// The grant with this id, or nil.
    func record(id: String) throws -> GrantRecord? {
        let statement = try RawStatement(db, "SELECT \(GrantRecord.columns) FROM grants WHERE id = ?1")
        statement.bind(1, id)
        defer { statement.reset() }
        return try statement.step() ? try GrantRecord(statement) : nil
    }

    /// Every grant, newest first, each turned into a value by `decode` — on every core for a
    /// large vault (each grant's metadata is sealed JSON: on thousands of grants, decrypting
    /// and decoding them is most of `vrm audit`).
    func all<R: Sendable>(_ decode: @Sendable (GrantRecord) throws -> R) throws -> [R] {
        try SQLiteReads.parallelMap(try records("SELECT \(GrantRecord.columns) FROM grants ORDER BY created_at DESC, id"), decode)
    }

    /// The grants that are active at `nowMillis` (`GrantStateSQL.active`).
    func active(nowMillis: Int64) throws -> [GrantRecord] {
        try records("SELECT \(GrantRecord.columns) FROM grants WHERE \(GrantStateSQL.active(now: "?1"))", now: nowMillis)
    }

    /// Every grant's state at `nowMillis` as the SQL rule computes it, by grant id.
    func states(nowMillis: Int64) throws -> [String: GrantState] {
        let statement = try RawStatement(db, "SELECT id, \(GrantStateSQL.state(now: "?1")) FROM grants")
        statement.bind(1, nowMillis)
        defer { statement.reset() }
        var states: [String: GrantState] = [:]
        while try statement.step() {
            guard let state = GrantState(rawValue: statement.text(1)) else { throw VaultError.corrupt("unknown grant state") }
            states[try statement.text(0, "id", of: "grants")] = state
        }
        return states
    }

    /// Revokes the grant at `atMillis` and destroys its share key and its share (overwritten
    /// on disk: `secure_delete`); `status` is the sealed status that records the revocation.
    func revoke(id: String, atMillis: Int64, status: [UInt8]) throws {
        try db.execute(
            sql: "UPDATE grants SET revoked_at = ?, share_key_sealed = NULL, status_sealed = ? WHERE id = ?",
            arguments: [atMillis, Data(status), id])
        try db.execute(sql: "DELETE FROM shares WHERE grant_id = ?", arguments: [id])
        try NotifyTables(db: db).dropPending(grantID: id, atMillis: atMillis)
        try queueForRelay(id)
    }

    /// Stores (or replaces) the grant's share at `version` and records the version on the grant,
    /// in the clear (for the server's ETag) and in the sealed `status`.
    func storeShare(grantID: String, version: Int, body: [UInt8], updatedAt: Int64, status: [UInt8]) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO shares (grant_id, version, body, updated_at) VALUES (?, ?, ?, ?)",
            arguments: [grantID, version, Data(body), updatedAt])
        try db.execute(sql: "UPDATE grants SET share_version = ?, status_sealed = ? WHERE id = ?", arguments: [version, Data(status), grantID])
        try queueForRelay(grantID)
        // A new version after the first: the grant's webhook, if any, is told (no data).
        if version > 1 {
            try NotifyTables(db: db).enqueue(
                id: Webhooks.eventID(), grantID: grantID, body: Webhooks.shareUpdated(grantID: grantID, version: version, atMillis: updatedAt),
                atMillis: updatedAt)
        }
    }

    /// Rewrites a grant's sealed columns (format migration, key rotation).
    func reseal(id: String, sealed: [UInt8], status: [UInt8], shareKey: [UInt8]?) throws {
        try db.execute(
            sql: "UPDATE grants SET sealed = ?, status_sealed = ?, share_key_sealed = ? WHERE id = ?",
            arguments: [Data(sealed), Data(status), shareKey.map { Data($0) }, id])
    }

    /// Replaces a grant's sealed status.
    func setStatus(id: String, status: [UInt8]) throws {
        try db.execute(sql: "UPDATE grants SET status_sealed = ? WHERE id = ?", arguments: [Data(status), id])
    }

    /// Deletes one grant's share and share key (a grant the CLI finds inactive).
    func destroyShare(id: String) throws {
        try db.execute(sql: "DELETE FROM shares WHERE grant_id = ?", arguments: [id])
        try db.execute(sql: "UPDATE grants SET share_key_sealed = NULL WHERE id = ? AND share_key_sealed IS NOT NULL", arguments: [id])
    }

    /// Deletes the share and share key of every grant that is not active at `nowMillis`.
    func purgeInactiveShares(nowMillis: Int64) throws {
        let inactive = "NOT \(GrantStateSQL.active(now: "?"))"
        try db.execute(sql: "DELETE FROM shares WHERE grant_id IN (SELECT id FROM grants WHERE \(inactive))", arguments: [nowMillis])
        try db.execute(sql: "UPDATE grants SET share_key_sealed = NULL WHERE share_key_sealed IS NOT NULL AND \(inactive)", arguments: [nowMillis])
    }

    private func records(_ sql: String, now: Int64? = nil) throws -> [GrantRecord] {
        let statement = try RawStatement(db, sql)
        if let now { statement.bind(1, now) }
        defer { statement.reset() }
        var records: [GrantRecord] = []
        while try statement.step() { records.append(try GrantRecord(statement)) }
        return records
    }
}
