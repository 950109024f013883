import Foundation
import VaultCrypto

/// Moves a format-1 vault to format 2 on the first unlock by the CLI, in one write transaction
/// (`Specs/vault-format.md` §11): a kill at any point leaves the format-1 vault, which the next
/// unlock migrates again.
///
/// Format 1 authenticated records but not the plaintext the CLI decided on, so what the file
/// says at this moment is taken as the truth — with two cross-checks that need no trust in
/// the plaintext: the history must chain (and hold this machine's format-1 checkpoint, if
/// there is one), and a grant whose revocation the history records stays revoked even if its
/// `revoked_at` was cleared.
enum FormatMigration {
    static let downgrade = VaultError.mismatch(
        table: "vault_header", id: "1", column: "column format_version (it says 1, but the vault holds what format 2 wrote)")

    static func run(database: VaultDatabase, keys: VaultKeys, clock: @escaping VaultClock, checkpoints: AuditCheckpointStore?) throws {
        // The context keeps no checkpoint: this transaction writes entries without one.
        let context = try VaultContext(database: database, keys: keys, clock: clock, checkpoints: nil)
        let legacy = try checkpoints?.loadLegacy(vaultID: keys.vaultID)
        let migrated = try database.write { transaction -> Bool in
            var header = try transaction.header.read()
            guard header.formatVersion == 1 else { return false }  // another process got here first
            // A format-2 vault set back to 1 (the checksum is unkeyed) would otherwise have its
            // plaintext sealed as the truth: anything format 2 wrote means it is not format 1.
            let hasMACs = try transaction.audit.hasMACs()
            let hasRetiredKeys = try !transaction.retiredKeys.all().isEmpty
            let hasCheckpoint = try checkpoints?.load(keys: keys) != nil
            if header.mac != nil || header.generation != nil || header.recordsDigest != nil || hasMACs || hasRetiredKeys || hasCheckpoint {
                throw downgrade
            }
            let history = HistoryCheck(keys: keys)
            _ = try history.verify(after: nil, checkpoint: legacy, openBodies: false, requireMACs: false, in: transaction)

            // Revocations the history records, by grant id.
            let boxes = try WriterBoxes(keys: keys, in: transaction)
            var revokedInHistory: [String: Int64] = [:]
            var cliEntries: [(seq: Int64, hash: [UInt8])] = []
            try transaction.audit.scan { entry in
                guard let event = AuditEvent(rawValue: entry.event) else { return true }
                if event.writtenByCLI { cliEntries.append((entry.seq, entry.hash)) }
                if event == .grantRevoked, let plain = boxes.open(writerID: entry.writerID, entry.body),
                    let body = try? VaultKeys.decodeRecord(AuditBody.self, plain), let grantID = body.grantID
                {
                    revokedInHistory[grantID] = revokedInHistory[grantID] ?? entry.atMillis
                }
                return true
            }

            // Each grant: its policy sealed into its metadata, its status sealed beside it.
            for record in try transaction.grants.all({ $0 }) {
                var metadata = try ConsentEngine.metadata(of: record, keys: keys)
                guard metadata.policy == nil, record.statusSealed == nil else { throw downgrade }
                guard let binding = GrantBinding(rawValue: record.binding) else {
                    throw VaultError.mismatch(table: "grants", id: record.id, column: "column binding")
                }
                metadata.policy = GrantPolicy(
                    binding: binding, createdAt: record.createdAt, expiresAt: record.expiresAt, maxUses: record.maxUses,
                    selector: Data(record.selector).base64EncodedString(), secretHash: Data(record.secretHash).base64EncodedString())
                let revokedAt = record.revokedAt ?? revokedInHistory[record.id]
                let status = try ConsentEngine.seal(
                    GrantStatus(version: record.shareVersion, revokedAt: revokedAt, usesSeen: record.useCount), grantID: record.id, keys: keys)
                try transaction.grants.reseal(
                    id: record.id, sealed: try keys.sealJSON(metadata, table: "grants", id: record.id, field: "metadata"), status: status,
                    shareKey: revokedAt == nil ? record.shareKeySealed : nil)
                if let revokedAt, record.revokedAt == nil {
                    try transaction.grants.revoke(id: record.id, atMillis: revokedAt, status: status)
                }
            }

            // The CLI's entries so far get the vault key's MAC; from now on every one has it.
            for entry in cliEntries { try transaction.audit.setMAC(seq: entry.seq, mac: keys.auditMAC(hash: entry.hash)) }

            header.formatVersion = 2
            header.checksum = header.computeChecksum()
            header.mac = keys.headerMAC(header)
            try transaction.header.update(header)

            let now = Millis.from(clock())
            try context.audit.append(.vaultMigrated, AuditBody(reason: "format 1 to 2"), atMillis: now, to: transaction.audit)
            // Every active share is rebuilt: the new version signs what format 2 adds (the
            // vendor key of key-bound grants) and its sealed status records it.
            try ConsentEngine(context: context).rematerialise(affectedBy: .all, in: transaction)
            try transaction.grants.purgeInactiveShares(nowMillis: now)
            try ConsentEngine.settle(in: transaction, keys: keys, nowMillis: now)
            try context.sealRecords(in: transaction)
            return true
        }
        guard migrated, let store = checkpoints else { return }
        let checkpoint = try database.read { transaction -> AuditCheckpoint in
            try context.checkRecords(against: nil, in: transaction)
            let tip = try HistoryCheck(keys: keys).verify(after: nil, openBodies: false, in: transaction)
            return AuditCheckpoint(
                seq: tip.seq, hash: tip.hash, revocations: try ConsentEngine.revocations(in: transaction, keys: keys),
                generation: try transaction.header.read().generation ?? 0)
        }
        try store.save(checkpoint, keys: keys)
        store.removeLegacy(vaultID: keys.vaultID)
    }
}
