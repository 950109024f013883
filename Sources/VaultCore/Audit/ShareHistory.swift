public import Foundation
import VaultCrypto

/// One decrypted share-history entry.
public struct AuditEntry: Sendable, Equatable {
    public var seq: Int64
    public var at: Date
    public var event: String
    public var body: AuditBody
    /// Written by the CLI and authenticated by the vault key's MAC. False for the server's
    /// entries: the host that runs the server could have written or withheld them.
    public var authenticated: Bool = false
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

/// The share history as the customer reads it: every entry decrypted with the vault key.
public struct ShareHistory: Sendable {
    let context: VaultContext

    /// Decrypts the share history (one `crypto_box_beforenm` per writer, then symmetric per entry),
    /// filling in vendor and scopes for entries the server wrote, and applies `filter`.
    public func entries(_ filter: AuditFilter = AuditFilter()) throws -> [AuditEntry] {
        try context.read { transaction in
            // Nothing is shown from a history that fails the checks: the whole chain is
            // recomputed (a hash per entry), so the MAC checked below covers the row as it is.
            // Nothing is shown from a history that fails the checks: the history since the
            // checkpoint first, then every link of the chain as its entry is decrypted below
            // (each entry's hash recomputed from the hash stored before it), so the MAC checked
            // there covers the row as it is. (The records digest is not needed here: what the
            // history shows of a grant — vendor, scopes, purpose — is sealed when it is issued.)
            try context.checkedCheckpoint(after: try context.loadCheckpoint(), countRevocations: false, in: transaction)
            let boxes = try WriterBoxes(keys: context.keys, in: transaction)
            let keys = context.keys
            let grantsByID = Dictionary(
                try ConsentEngine(context: context).grants(in: transaction).map { ($0.id, $0) },
                uniquingKeysWith: { a, _ in a })
            let vendorID = try filter.vendorName.map { try VendorRegistry(context: context).vendor(named: $0, in: transaction).id }
            // Read in order on this thread; each chunk of entries is decrypted on another.
            let chunks = try transaction.audit.pipelined(sinceMillis: filter.since.map(Millis.from)) { records in
                var entries: [AuditEntry] = []
                for record in records {
                    let linked =
                        record.previousSeq.map { $0 == record.seq - 1 } ?? (record.seq == 1)
                        && constantTimeEquals(
                            AuditChain.entryHash(
                                previous: record.previousHash ?? AuditChain.genesis, seq: record.seq, atMillis: record.atMillis,
                                event: record.event, writerID: record.writerID, body: record.body),
                            record.hash)
                    guard linked else {
                        throw VaultError.historyDamaged(
                            firstBad: record.seq, reason: "entry \(record.seq) does not match its hash chain (edited, swapped, inserted or reordered)")
                    }
                    guard let plain = boxes.open(writerID: record.writerID, record.body),
                        var body = try? VaultKeys.decodeRecord(AuditBody.self, plain)
                    else { throw VaultError.tampered(table: "audit", id: String(record.seq)) }
                    // An entry only the CLI writes must carry the vault key's MAC over its hash
                    // (the chain itself is checked since the checkpoint, above, and in full by verify).
                    let cliEvent = AuditEvent(rawValue: record.event)?.writtenByCLI ?? false
                    let authenticated = cliEvent && keys.verifyMAC(record.mac, "audit", [record.hash])
                    if cliEvent, !authenticated { throw VaultError.tampered(table: "audit", id: String(record.seq)) }
                    // Who and what a server entry concerns comes from its grant, never from the body:
                    // a server (or relay) writes only the grant id, version, client and reason.
                    if !cliEvent {
                        body.vendorID = nil
                        body.vendor = nil
                        body.scopes = nil
                        body.purpose = nil
                    }
                    if let id = body.grantID, let grant = grantsByID[id] {
                        body.vendorID = body.vendorID ?? grant.vendorID
                        body.vendor = body.vendor ?? grant.vendorName
                        body.scopes = body.scopes ?? grant.scopes.map(\.description)
                        body.purpose = body.purpose ?? grant.purpose.rawValue
                    }
                    if let grantID = filter.grantID, body.grantID != grantID { continue }
                    if let vendorID, body.vendorID != vendorID { continue }
                    entries.append(
                        AuditEntry(seq: record.seq, at: Millis.date(record.atMillis), event: record.event, body: body, authenticated: authenticated))
                }
                return entries
            }
            return chunks.flatMap { $0 }
        }
    }

    /// Moves the out-of-file audit checkpoint to the newest entry (the CLI does this after
    /// every change it commits).
    public func advanceCheckpoint() throws {
        try context.advanceAuditCheckpoint()
    }

    /// The full keyed verification (`vrm audit verify`): every entry's sequence and chain hash,
    /// the vault key's MAC on every entry the CLI writes, every body opening with the vault key,
    /// the checkpoint this machine holds (its entry still there, unchanged; no fewer
    /// revocations). When intact, the checkpoint moves to the newest entry. Also returns the
    /// checkpoint it compared against.
    public func verify() throws -> (result: AuditVerification, previous: AuditCheckpoint?) {
        let previous = try context.loadCheckpoint()
        let outcome = try context.read { transaction -> Result<AuditCheckpoint, VaultError> in
            // The records and the header first: a vault that fails them is refused outright.
            try context.checkRecords(against: previous, in: transaction)
            do {
                let tip = try HistoryCheck(keys: context.keys).verify(after: nil, checkpoint: previous, openBodies: true, in: transaction)
                let revocations = try context.checkRevocations(against: previous, in: transaction)
                let generation = try transaction.header.read().generation ?? 0
                return .success(AuditCheckpoint(seq: tip.seq, hash: tip.hash, revocations: revocations, generation: generation))
            } catch let error as VaultError {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let checkpoint):
            if let store = context.checkpoints, checkpoint != previous { try store.save(checkpoint, keys: context.keys) }
            return (.intact(entries: checkpoint.seq, lastHash: checkpoint.hash), previous)
        case .failure(.historyDamaged(let firstBad, let reason)):
            return (.broken(firstBad: firstBad, reason: reason), previous)
        case .failure(let error):
            throw error
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

/// Checks the hash chain alone. Needs no passphrase, so anyone holding the file can run it,
/// but it cannot tell a forged entry from a genuine one: whoever can write the file can
/// recompute every hash. `ShareHistory.verify` is the check that holds against them.
public enum AuditVerifier {
    public static func verify(_ database: VaultDatabase, checkpoint: AuditCheckpoint?) throws -> AuditVerification {
        try database.read { transaction in
            var expected: Int64 = 1
            var previous = AuditChain.genesis
            var hashAtCheckpoint: [UInt8]?
            var broken: AuditVerification?
            try transaction.audit.scan { entry in
                let seq = entry.seq
                guard seq == expected else {
                    broken = .broken(firstBad: expected, reason: seq > expected ? "entry \(expected) is missing (deleted)" : "sequence out of order")
                    return false
                }
                let hash = AuditChain.entryHash(
                    previous: previous, seq: seq, atMillis: entry.atMillis, event: entry.event,
                    writerID: entry.writerID, body: entry.body)
                guard constantTimeEquals(hash, entry.hash) else {
                    broken = .broken(firstBad: seq, reason: "entry \(seq) does not match its hash chain (edited, swapped or inserted)")
                    return false
                }
                if seq == checkpoint?.seq { hashAtCheckpoint = hash }
                previous = hash
                expected += 1
                return true
            }
            if let broken { return broken }
            if let checkpoint {
                guard checkpoint.seq < expected else {
                    return .broken(
                        firstBad: expected,
                        reason: "the history ends at entry \(expected - 1) but entry \(checkpoint.seq) was recorded earlier: truncated or rolled back")
                }
                guard let hashAtCheckpoint, constantTimeEquals(hashAtCheckpoint, checkpoint.hash) else {
                    return .broken(
                        firstBad: checkpoint.seq, reason: "entry \(checkpoint.seq) differs from the recorded checkpoint: history rewritten or rolled back")
                }
            }
            return .intact(entries: expected - 1, lastHash: previous)
        }
    }
}
