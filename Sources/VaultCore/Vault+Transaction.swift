public import GRDB

extension Vault {
    /// A write transaction for a customer-side change. After it commits, the CLI's audit
    /// checkpoint moves to the newest entry — unless the history no longer contains the
    /// previous checkpoint (rolled back or truncated), in which case it is left for `audit verify`.
    func transaction<T>(_ body: (Database) throws -> T) throws -> T {
        let result = try database.write(body)
        try advanceAuditCheckpoint()
        return result
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
