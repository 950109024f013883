public import GRDB

extension Vault {
    /// A write transaction for a customer-side change. Before it commits, shares of grants that
    /// expired or were used up are destroyed. After it commits, the CLI's audit checkpoint moves
    /// to the newest entry — unless the history no longer contains the previous checkpoint
    /// (rolled back or truncated), in which case it is left for `audit verify` to report.
    /// Moving the checkpoint is best effort: the change has committed, and failing now would
    /// hide a result (such as a token shown only once) from the user.
    func transaction<T>(_ body: (Database) throws -> T) throws -> T {
        let result = try database.write { db in
            let value = try body(db)
            try purgeInactiveShares(db)
            return value
        }
        try? advanceAuditCheckpoint()
        return result
    }

    /// Deletes the stored share and share key of every grant that is no longer active.
    func purgeInactiveShares(_ db: Database) throws {
        let now = nowMillis
        let inactive = "revoked_at IS NOT NULL OR (expires_at IS NOT NULL AND expires_at <= ?) OR (max_uses IS NOT NULL AND use_count >= max_uses)"
        try db.execute(sql: "DELETE FROM shares WHERE grant_id IN (SELECT id FROM grants WHERE \(inactive))", arguments: [now])
        try db.execute(sql: "UPDATE grants SET share_key_sealed = NULL WHERE share_key_sealed IS NOT NULL AND (\(inactive))", arguments: [now])
    }

    /// Moves the out-of-file audit checkpoint to the newest entry (see `transaction`).
    public func advanceAuditCheckpoint() throws {
        guard let store = checkpoints else { return }
        let vaultID = keys.vaultID
        let previous = try store.load(vaultID: vaultID)
        let (newest, stillThere) = try database.read { db -> (AuditCheckpoint?, Bool) in
            let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
                .map { AuditCheckpoint(seq: $0["seq"], hash: $0.bytes("hash")) }
            guard let previous else { return (last, true) }
            let hash = try Row.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [previous.seq])?.bytes("hash")
            return (last, hash == previous.hash)
        }
        guard let newest, stillThere, newest != previous else { return }
        try store.save(newest, vaultID: vaultID)
    }
}
