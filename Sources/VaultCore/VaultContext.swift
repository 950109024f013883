import Foundation
import VaultCrypto

/// What every feature of an unlocked vault works from: the database, the key ring, this
/// process's audit writer, the clock and the out-of-file audit checkpoint. Features
/// (`ProfileBook`, `VendorRegistry`, …) are small values over one shared context.
final class VaultContext: Sendable {
    let database: VaultDatabase
    let keys: VaultKeys
    let clock: VaultClock
    let audit: AuditWriter
    /// Where the CLI keeps its out-of-file audit checkpoint; nil to keep none (tests, demo).
    let checkpoints: AuditCheckpointStore?

    init(database: VaultDatabase, keys: VaultKeys, clock: @escaping VaultClock, checkpoints: AuditCheckpointStore?) throws {
        self.database = database
        self.keys = keys
        self.clock = clock
        self.checkpoints = checkpoints
        self.audit = try AuditWriter(vaultBoxPublicKey: database.header.boxPublicKey)
    }

    var now: Date { clock() }
    var nowMillis: Int64 { Millis.from(clock()) }

    /// A read transaction.
    func read<T>(_ body: (StorageTransaction) throws -> T) throws -> T {
        try database.read(body)
    }

    /// A write transaction for a customer-side change. Before it commits, shares of grants that
    /// expired or were used up are destroyed. After it commits, the CLI's audit checkpoint moves
    /// to the newest entry — unless the history no longer contains the previous checkpoint
    /// (rolled back or truncated), in which case it is left for `audit verify` to report.
    /// Moving the checkpoint is best effort: the change has committed, and failing now would
    /// hide a result (such as a token shown only once) from the user.
    func write<T>(_ body: (StorageTransaction) throws -> T) throws -> T {
        let result = try database.write { transaction in
            let value = try body(transaction)
            try transaction.grants.purgeInactiveShares(nowMillis: nowMillis)
            return value
        }
        try? advanceAuditCheckpoint()
        return result
    }

    /// Moves the out-of-file audit checkpoint to the newest entry (see `write`).
    func advanceAuditCheckpoint() throws {
        guard let store = checkpoints else { return }
        let vaultID = keys.vaultID
        let previous = try store.load(vaultID: vaultID)
        let (newest, stillThere) = try read { transaction -> (AuditCheckpoint?, Bool) in
            let last = try transaction.audit.lastAuditEntry().map { AuditCheckpoint(seq: $0.seq, hash: $0.hash) }
            guard let previous else { return (last, true) }
            return (last, try transaction.audit.hash(seq: previous.seq) == previous.hash)
        }
        guard let newest, stillThere, newest != previous else { return }
        try store.save(newest, vaultID: vaultID)
    }

    /// A new random row id (not secret, not personal).
    func newRowID() -> String {
        Hex.encode(Random.bytes(16))
    }
}
