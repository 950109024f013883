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
        self.audit = try AuditWriter(vaultBoxPublicKey: keys.box.publicKey, keys: keys)
    }

    var now: Date { clock() }
    var nowMillis: Int64 { Millis.from(clock()) }

    /// A read transaction.
    func read<T>(_ body: (StorageTransaction) throws -> T) throws -> T {
        try database.read(body)
    }

    /// A write transaction for a customer-side change. Before the change, the vault is checked
    /// against this machine's checkpoint (`checkedCheckpoint`): a history that was rolled back
    /// or forged since, or a revocation undone, refuses the change (nothing is written). Before
    /// it commits, shares of grants that expired or were used up are destroyed, and the history
    /// since the checkpoint — the entries just written among them — is checked again. After it
    /// commits, the checkpoint moves to the newest entry. Saving it is best effort: the change
    /// has committed, and failing now would hide a result (such as a token shown only once);
    /// the next command checks from the older checkpoint, which still holds.
    func write<T>(_ body: (StorageTransaction) throws -> T) throws -> T {
        let previous = try loadCheckpoint()
        var next: AuditCheckpoint?
        let result = try database.write { transaction in
            try checkRecords(against: previous, in: transaction)
            // The revocations need no count before the change: the records digest just checked
            // covers every grant row (and the generation a rolled-back file).
            let before = checkpoints == nil ? nil : try checkedCheckpoint(after: previous, countRevocations: false, in: transaction)
            let value = try body(transaction)
            try transaction.grants.purgeInactiveShares(nowMillis: nowMillis)
            try ConsentEngine.settle(in: transaction, keys: keys, nowMillis: nowMillis)
            try sealRecords(in: transaction)
            if let before { next = try checkedCheckpoint(after: before, in: transaction) }
            return value
        }
        if let store = checkpoints, let next, next != previous { try? store.save(next, keys: keys) }
        return result
    }

    /// The checkpoint this machine keeps for the vault; nil when none is kept (tests, the demo)
    /// or none was written yet. A checkpoint file that fails its MAC throws.
    func loadCheckpoint() throws -> AuditCheckpoint? {
        try checkpoints?.load(keys: keys)
    }

    /// Checks the vault against `previous` and returns the checkpoint for its current state:
    /// the history after `previous` chains from it (and `previous`'s entry is still there,
    /// unchanged), every entry only the CLI writes carries the vault key's MAC, and no fewer
    /// grants are revoked. With no checkpoint kept, does nothing and returns nil.
    @discardableResult
    func checkedCheckpoint(
        after previous: AuditCheckpoint?, countRevocations: Bool = true, in transaction: StorageTransaction
    ) throws -> AuditCheckpoint? {
        guard checkpoints != nil else { return nil }
        let tip = try HistoryCheck(keys: keys).verify(after: previous, openBodies: false, in: transaction)
        let revocations = countRevocations ? try checkRevocations(against: previous, in: transaction) : previous?.revocations ?? 0
        // The generation saved is one the key vouches for (callers check the digest before).
        let header = try transaction.header.read()
        guard keys.headerIsAuthentic(header), let generation = header.generation else { throw VaultError.tampered(table: "vault_header", id: "1") }
        return AuditCheckpoint(seq: tip.seq, hash: tip.hash, revocations: revocations, generation: generation)
    }

    /// The keyed digest of every row only the CLI writes (`StorageTransaction.feedRecords`).
    func recordsDigest(in transaction: StorageTransaction) throws -> [UInt8] {
        var failure: (any Error)?
        let digest = BLAKE2b.hash(key: keys.integrityKey) { input in
            do { try transaction.feedRecords(into: &input) } catch { failure = error }
        }
        if let failure { throw failure }
        return digest
    }

    /// The records digest of a vault with no rows.
    static func noRecordsDigest(keys: VaultKeys) -> [UInt8] {
        BLAKE2b.hash(key: keys.integrityKey) { input in StorageTransaction.feedNoRecords(into: &input) }
    }

    /// Refuses a vault whose rows differ from what the CLI last wrote (a row put back from an
    /// older copy, deleted or inserted without the key), whose header fails its MAC, or whose
    /// generation is lower than this machine saw (the whole file rolled back).
    func checkRecords(against previous: AuditCheckpoint?, in transaction: StorageTransaction) throws {
        let header = try transaction.header.read()
        guard keys.headerIsAuthentic(header), let stored = header.recordsDigest, let generation = header.generation else {
            throw VaultError.tampered(table: "vault_header", id: "1")
        }
        guard constantTimeEquals(stored, try recordsDigest(in: transaction)) else {
            // Name the row when a check of its own can: a plaintext column that disagrees with
            // its sealed copy, a record that does not open. Else the digest alone tells.
            try diagnoseRecords(in: transaction)
            throw VaultError.mismatch(
                table: "vault_header", id: "1",
                column: "the records digest (a row was changed, put back from an older copy, deleted or inserted since the CLI last wrote)")
        }
        if let previous, generation < previous.generation {
            throw VaultError.mismatch(
                table: "vault_header", id: "1",
                column: "the generation (\(generation), but this machine saw \(previous.generation): the file was rolled back)")
        }
    }

    /// Opens and checks every record and grant, throwing the first specific failure.
    private func diagnoseRecords(in transaction: StorageTransaction) throws {
        for record in try transaction.grants.all({ $0 }) { _ = try ConsentEngine.open(record, keys: keys) }
        _ = try VendorRegistry(context: self).all(in: transaction)
        _ = try ProfileBook(context: self).entries(in: transaction)
        _ = try PurchaseLedger(context: self).purchases(vendorID: nil, sorted: false, in: transaction)
        _ = try CaseBook(context: self).cases(vendorID: nil, in: transaction)
    }

    /// Seals the current rows into the header: the next generation, the records digest, the MAC.
    func sealRecords(in transaction: StorageTransaction) throws {
        var header = try transaction.header.read()
        let (generation, overflow) = (header.generation ?? 0).addingReportingOverflow(1)
        guard !overflow else { throw VaultError.corrupt("the vault header's generation cannot grow") }
        header.generation = generation
        header.recordsDigest = try recordsDigest(in: transaction)
        header.mac = keys.headerMAC(header)
        try transaction.header.update(header)
    }

    /// How many grants are revoked (by their sealed status); throws when fewer than `previous`
    /// recorded — a revocation was undone by restoring older rows.
    func checkRevocations(against previous: AuditCheckpoint?, in transaction: StorageTransaction) throws -> Int64 {
        let revocations = try ConsentEngine.revocations(in: transaction, keys: keys)
        if let previous, revocations < previous.revocations {
            throw VaultError.mismatch(
                table: "grants", id: "*",
                column: "the revocations (\(revocations) revoked grants, but this machine saw \(previous.revocations): a revocation was undone)")
        }
        return revocations
    }

    /// Moves the out-of-file audit checkpoint to the newest entry, once the history since the
    /// previous one checks out (`vrm audit` does this after reading).
    func advanceAuditCheckpoint() throws {
        guard let store = checkpoints else { return }
        let previous = try loadCheckpoint()
        let next = try read { transaction -> AuditCheckpoint? in
            try checkRecords(against: previous, in: transaction)
            return try checkedCheckpoint(after: previous, in: transaction)
        }
        if let next, next != previous { try store.save(next, keys: keys) }
    }

    /// Refuses to go on when the vault fails the checks against this machine's checkpoint
    /// (reads that show grants or history call it first).
    func checkHistory(in transaction: StorageTransaction) throws {
        let previous = try loadCheckpoint()
        try checkRecords(against: previous, in: transaction)
        try checkedCheckpoint(after: previous, countRevocations: false, in: transaction)
    }

    /// A new random row id (not secret, not personal).
    func newRowID() -> String {
        Hex.encode(Random.bytes(16))
    }
}
