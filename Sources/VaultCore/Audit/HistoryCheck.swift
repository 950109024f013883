import Foundation
import VaultCrypto

/// The keyed checks of the share history (format 2, `Specs/audit-chain.md` §5): sequence,
/// hash chain, the vault key's MAC on every entry only the CLI writes, and — for a full
/// verification — that every body opens with its writer's key. Failures are
/// `VaultError.historyDamaged`, naming the first entry that fails.
struct HistoryCheck {
    let keys: VaultKeys

    /// The newest entry checked: its sequence number and hash (0 and the genesis hash for an
    /// empty history).
    struct Tip: Equatable {
        var seq: Int64
        var hash: [UInt8]
    }

    /// Checks the entries after `start` (from the first when nil), chained from `start`'s hash,
    /// which must still be the stored hash of that entry. With `checkpoint`, the history must
    /// reach that entry with that hash. With `openBodies`, every body must open. Without
    /// `requireMACs` (a format-1 history, before the migration adds them), MACs are not checked.
    func verify(
        after start: AuditCheckpoint?, checkpoint: AuditCheckpoint? = nil, openBodies: Bool, requireMACs: Bool = true,
        in transaction: StorageTransaction
    ) throws -> Tip {
        var expected: Int64 = 1
        var previous = AuditChain.genesis
        if let start, start.seq > 0 {
            guard let stored = try transaction.audit.hash(seq: start.seq) else {
                throw VaultError.historyDamaged(
                    firstBad: start.seq,
                    reason: "entry \(start.seq), which this machine saw before, is gone: the history was truncated or rolled back")
            }
            guard constantTimeEquals(stored, start.hash) else {
                throw VaultError.historyDamaged(
                    firstBad: start.seq, reason: "entry \(start.seq) differs from the checkpoint: the history was rewritten or rolled back")
            }
            expected = start.seq + 1
            previous = start.hash
        }
        let boxes = openBodies ? try WriterBoxes(keys: keys, in: transaction) : WriterBoxes()
        var hashAtCheckpoint: [UInt8]?
        var failure: VaultError?
        // Rows the scan below would not reach (a sequence number of 0 or less, or any extra row)
        // show as a count that differs from the largest sequence number.
        let (count, smallest, largest) = try transaction.audit.extent()
        if count > 0, smallest < 1 {
            throw VaultError.historyDamaged(firstBad: smallest, reason: "entry \(smallest) is out of sequence (inserted)")
        }
        // Before a checkpoint only its own entry is read again; `vrm audit verify` reads all.
        try transaction.audit.scan(after: start == nil ? Int64.min : expected - 1) { entry in
            let seq = entry.seq
            func fail(_ reason: String) -> Bool {
                failure = .historyDamaged(firstBad: seq, reason: reason)
                return false
            }
            guard seq == expected else {
                failure = .historyDamaged(firstBad: expected, reason: "entry \(expected) is missing (deleted)")
                return false
            }
            let hash = AuditChain.entryHash(
                previous: previous, seq: seq, atMillis: entry.atMillis, event: entry.event, writerID: entry.writerID, body: entry.body)
            guard constantTimeEquals(hash, entry.hash) else {
                return fail("entry \(seq) does not match its hash chain (edited, swapped, inserted or reordered)")
            }
            guard let event = AuditEvent(rawValue: entry.event) else { return fail("entry \(seq) has an unknown event") }
            if requireMACs, event.writtenByCLI, !keys.verifyMAC(entry.mac, "audit", [hash]) {
                return fail("entry \(seq) (\(event.rawValue)) is not authenticated by the vault key: only the CLI writes it, so it was forged or altered")
            }
            if openBodies {
                guard boxes.open(writerID: entry.writerID, entry.body) != nil else {
                    return fail("entry \(seq) cannot be opened with the vault key (its body or its writer in audit_writers was changed or removed)")
                }
            }
            if seq == checkpoint?.seq { hashAtCheckpoint = hash }
            previous = hash
            expected += 1
            return true
        }
        if let failure { throw failure }
        // The entries before `start` were not read again; their number must still add up.
        if count != largest {
            throw VaultError.historyDamaged(
                firstBad: 1,
                reason: "the history holds \(count) entries numbered 1 to \(largest): entries before the checkpoint were deleted or inserted")
        }
        if let checkpoint, checkpoint.seq > 0, start == nil {
            guard checkpoint.seq < expected else {
                throw VaultError.historyDamaged(
                    firstBad: expected,
                    reason: "the history ends at entry \(expected - 1) but this machine saw entry \(checkpoint.seq): truncated or rolled back")
            }
            guard let hashAtCheckpoint, constantTimeEquals(hashAtCheckpoint, checkpoint.hash) else {
                throw VaultError.historyDamaged(
                    firstBad: checkpoint.seq, reason: "entry \(checkpoint.seq) differs from the checkpoint: history rewritten or rolled back")
            }
        }
        return Tip(seq: expected - 1, hash: previous)
    }
}

/// Each writer's precomputed boxes with the vault's X25519 keys: the current one first, then
/// those retired by key rotations (entries written before a rotation were boxed to the old key).
struct WriterBoxes: Sendable {
    private var boxes: [String: [PrecomputedBox]] = [:]

    init() {}

    init(keys: VaultKeys, in transaction: StorageTransaction) throws {
        for writer in try transaction.audit.writers() {
            boxes[writer.id] = keys.boxSecrets.compactMap { try? PrecomputedBox(publicKey: writer.publicKey, secretKey: $0) }
        }
    }

    /// The body opened, or nil when its writer is unknown or no vault key opens it.
    func open(writerID: String, _ body: [UInt8]) -> [UInt8]? {
        for box in boxes[writerID] ?? [] {
            if let plain = try? box.open(body) { return plain }
        }
        return nil
    }
}
