import Foundation
import VaultCrypto

/// `vrm passphrase change --rotate-key`: a new master key under a new passphrase, and every
/// record, blind index, grant, history MAC and the checkpoint moved to it, in one write
/// transaction (`Specs/vault-format.md` §13). A kill at any point leaves either the old vault
/// (old passphrase) or the new one (new passphrase), never a mix.
///
/// The X25519 key the history is boxed to is replaced too; the old one is kept, sealed under
/// the new key, so older entries still open. The Ed25519 signing key stays: vendors have pinned
/// it, and a share signed after the rotation must still verify for them.
enum KeyRotation {
    static func run(
        database: VaultDatabase, current: SecretKey, new: SecretKey, clock: @escaping VaultClock, checkpoints: AuditCheckpointStore?
    ) throws {
        let replaced = try database.write { transaction -> VaultKeys in
            var header = try transaction.header.read()
            let oldMaster = try Vault.unwrapMaster(header: header, passphrase: current)
            let retired = try transaction.retiredKeys.all()
            let old = try VaultKeys(master: oldMaster, header: header, retired: retired)
            guard old.headerIsAuthentic(header) else {
                throw VaultError.tampered(table: "vault_header", id: "1")
            }
            // Nothing is carried over that does not check out under the old key.
            let oldCheckpoint = try checkpoints?.load(keys: old)
            _ = try HistoryCheck(keys: old).verify(after: nil, checkpoint: oldCheckpoint, openBodies: true, in: transaction)
            let oldContext = try VaultContext(database: database, keys: old, clock: clock, checkpoints: nil)
            _ = try oldContext.checkRevocations(against: oldCheckpoint, in: transaction)
            try oldContext.checkRecords(against: oldCheckpoint, in: transaction)

            // The new key ring: master key, X25519 key pair, the same signing key pair.
            let master = try SecretKey.random(count: 32)
            let box = try BoxKeyPair.generate()
            let identity = try Subkeys.derive(from: master, id: VaultKeys.SubkeyID.identity.rawValue)
            func sealIdentity(_ secret: SecretKey, table: String, id: String, field: String) throws -> [UInt8] {
                try AEAD.seal(
                    secret: secret, key: identity,
                    associatedData: VaultKeys.associatedData(vaultID: header.vaultID, table: table, id: id, field: field))
            }
            header.salt = Random.bytes(PasswordHash.saltBytes)
            let kek = try PasswordHash.deriveKey(passphrase: new, salt: header.salt, parameters: header.kdf)
            header.wrappedKey = try AEAD.seal(secret: master, key: kek, associatedData: Vault.masterKeyAD(header.vaultID))
            header.boxPublicKey = box.publicKey
            header.boxSecretSealed = try sealIdentity(box.secretKey, table: "vault_header", id: "1", field: "box_secret")
            header.signSecretSealed = try sealIdentity(old.signing.secretKey, table: "vault_header", id: "1", field: "sign_secret")
            header.formatVersion = VaultHeader.currentFormat
            header.checksum = header.computeChecksum()
            let retiredNow = Millis.from(clock())
            var newRetired: [RetiredKeysTable.Row] = []
            for (index, pair) in ([old.box] + old.retiredBoxes).enumerated().reversed() {
                let id = Random.identifier(prefix: "k_")
                newRetired.append(
                    RetiredKeysTable.Row(
                        id: id, publicKey: pair.publicKey,
                        secretSealed: try sealIdentity(pair.secretKey, table: "retired_keys", id: id, field: "box_secret"),
                        retiredAt: index == 0 ? retiredNow : (retired.first { $0.publicKey == pair.publicKey }?.retiredAt ?? retiredNow)))
            }
            let keys = try VaultKeys(master: master, header: header, retired: newRetired)
            header.mac = keys.headerMAC(header)
            let context = try VaultContext(database: database, keys: keys, clock: clock, checkpoints: nil)

            // Every record, opened (and checked) under the old key, sealed under the new one.
            for row in try transaction.profile.all() {
                let entry = try old.openJSON(ProfileEntryPayload.self, row.sealed, table: "profile", id: row.id)
                try transaction.profile.reseal(
                    id: row.id, keyIndex: ProfileBook(context: context).keyIndex(entry.key),
                    sealed: try keys.sealJSON(entry, table: "profile", id: row.id))
            }
            for vendor in try VendorRegistry(context: oldContext).all(in: transaction) {
                try transaction.vendors.reseal(
                    id: vendor.id, nameIndex: VendorRegistry(context: context).nameIndex(vendor.name),
                    sealed: try keys.sealJSON(vendor, table: "vendors", id: vendor.id))
            }
            let ledger = PurchaseLedger(context: context)
            for purchase in try PurchaseLedger(context: oldContext).purchases(vendorID: nil, sorted: false, in: transaction) {
                try transaction.purchases.reseal(
                    id: purchase.id,
                    dedupeIndex: purchase.orderNumber.map { ledger.dedupeIndex(vendorID: purchase.vendorID, order: $0, item: purchase.item) },
                    sealed: try keys.sealRecord(purchase, table: "purchases", id: purchase.id))
            }
            for supportCase in try CaseBook(context: oldContext).cases(vendorID: nil, in: transaction) {
                try transaction.cases.reseal(id: supportCase.id, sealed: try keys.sealJSON(supportCase, table: "cases", id: supportCase.id))
            }
            for record in try transaction.grants.all({ $0 }) {
                let opened = try ConsentEngine.open(record, keys: old)
                let shareKey = try record.shareKeySealed.map {
                    try keys.sealSecret(
                        try old.openSecret($0, table: "grants", id: record.id, field: "share_key", storage: .scratch),
                        table: "grants", id: record.id, field: "share_key")
                }
                try transaction.grants.reseal(
                    id: record.id, sealed: try keys.sealJSON(opened.metadata, table: "grants", id: record.id, field: "metadata"),
                    status: try ConsentEngine.seal(opened.status, grantID: record.id, keys: keys), shareKey: shareKey)
            }

            // The relay link's state (where, and how far its history was pulled).
            if let sealed = try transaction.relay.sealedLink() {
                var state = try old.openJSON(RelayLinkState.self, sealed, table: RelayLink.table, id: "1", field: "state")
                // The relay must seal its entries to the new key: the next command tells it.
                state.boxKeyPending = true
                try transaction.relay.setLink(try keys.sealJSON(state, table: RelayLink.table, id: "1", field: "state"))
            }

            // Request links (their code secrets and answers) and the CLI's decisions on requests.
            for link in try transaction.requests.links() {
                let id = Hex.encode(link.selector)
                let secret = try old.openJSON(RequestLinkSecret.self, link.sealed, table: "request_links", id: id, field: "sealed")
                try transaction.requests.resealLink(
                    selector: link.selector, sealed: try keys.sealJSON(secret, table: "request_links", id: id, field: "sealed"))
            }
            for row in try transaction.requests.requests() {
                guard let box = row.decisionSealed else { continue }
                let decision = try old.openJSON(RequestDecision.self, box, table: "access_requests", id: row.id, field: "decision")
                try transaction.requests.setDecision(
                    id: row.id, sealed: try keys.sealJSON(decision, table: "access_requests", id: row.id, field: "decision"))
            }

            // The history: the CLI's entries authenticated under the new key, then one more.
            var cliEntries: [(seq: Int64, hash: [UInt8])] = []
            try transaction.audit.scan { entry in
                if AuditEvent(rawValue: entry.event)?.writtenByCLI == true { cliEntries.append((entry.seq, entry.hash)) }
                return true
            }
            for entry in cliEntries { try transaction.audit.setMAC(seq: entry.seq, mac: keys.auditMAC(hash: entry.hash)) }
            try transaction.header.update(header)
            try transaction.retiredKeys.replaceAll(newRetired)
            try context.audit.append(.keyRotated, AuditBody(), atMillis: retiredNow, to: transaction.audit)
            try context.sealRecords(in: transaction)

            // The checkpoint under the new key is written before the commit: a kill after it
            // leaves a file no key finds (the old vault), a kill after the commit leaves both.
            if let checkpoints {
                let tip = try HistoryCheck(keys: keys).verify(after: nil, openBodies: true, in: transaction)
                try checkpoints.save(
                    AuditCheckpoint(
                        seq: tip.seq, hash: tip.hash, revocations: try ConsentEngine.revocations(in: transaction, keys: keys),
                        generation: try transaction.header.read().generation ?? 0),
                    keys: keys)
            }
            return old
        }
        // The old key's checkpoint becomes a marker: an older copy of the file, opened with the
        // old passphrase on this machine, is refused rather than checked against nothing.
        try? checkpoints?.saveRetired(keys: replaced)
        database.checkpoint()
    }
}
