import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport

/// The attacks reported against format 1 (issue 17), each made with SQL and no passphrase.
@Suite struct WritableFileReproTests {
    let dir = TemporaryDirectory()
    let store: AuditCheckpointStore
    let vault: Vault
    let acme: IssuedGrant
    var path: String { dir.file("vault.db") }

    init() throws {
        store = AuditCheckpointStore(directory: dir.file("state"))
        vault = try makeVault(in: dir, checkpoints: store)
        try vault.vendors.add(name: "Acme Outdoor")
        try vault.vendors.add(name: "Bolt Bikes")
        try vault.purchases.add([NewPurchase(vendorName: "Bolt Bikes", item: "Gift for Sam", giftFor: "Sam")])
        try vault.cases.open(NewCase(vendorName: "Bolt Bikes", subject: "Private case"))
        acme = try vault.grants.create(
            GrantRequest(vendorName: "Acme Outdoor", scopes: [.purchasesOwn, .casesOwn], purpose: .warranty, expiresAt: Date().addingTimeInterval(3600)))
    }

    func reopen() throws -> Vault { try Vault.unlock(path: path, passphrase: try testPassphrase(), checkpoints: store) }

    @Test func recordsMovedToAnotherVendorInTheClearAreRefused() throws {
        let acmeID = try vault.vendors.vendor(named: "Acme Outdoor").id
        let purchaseID = try #require(try vault.purchases.list().first?.id)
        try rawExecute(path, "UPDATE purchases SET vendor_id = '\(acmeID)'; UPDATE cases SET vendor_id = '\(acmeID)'")
        #expect(throws: VaultError.mismatch(table: "purchases", id: purchaseID, column: "column vendor_id")) {
            _ = try reopen().vendors.edit(named: "Acme Outdoor", VendorEdit(stage: .commitment))
        }
        // Nothing was re-materialised: Acme's share is still version 1, with nothing in it.
        #expect(try RawDatabase.open(path).int("SELECT version FROM shares") == 1)
    }

    @Test func aRevokedGrantIsNotRevivedByClearingItsColumn() throws {
        try vault.grants.revoke(id: acme.grant.id)
        try rawExecute(path, "UPDATE grants SET revoked_at = NULL")
        #expect(throws: VaultError.mismatch(table: "grants", id: acme.grant.id, column: "column revoked_at")) {
            try reopen().purchases.add([NewPurchase(vendorName: "Acme Outdoor", item: "Stove")])
        }
        #expect(try RawDatabase.open(path).int("SELECT count(*) FROM shares") == 0)
    }

    @Test func aRevokedGrantRestoredFromAnOlderCopyOfItsRowIsCaught() throws {
        let before = try RawDatabase.open(path).strings("SELECT hex(status_sealed) FROM grants").first ?? ""
        try vault.grants.revoke(id: acme.grant.id)
        try rawExecute(path, "UPDATE grants SET revoked_at = NULL, status_sealed = x'\(before)'")
        #expect(throws: VaultError.self) { try reopen().purchases.add([NewPurchase(vendorName: "Acme Outdoor", item: "Stove")]) }
        #expect(throws: VaultError.self) { try reopen().grants.list() }
    }

    @Test func aDroppedExpiryIsRefusedNotSigned() throws {
        try rawExecute(path, "UPDATE grants SET expires_at = NULL")
        #expect(throws: VaultError.mismatch(table: "grants", id: acme.grant.id, column: "column expires_at")) { try reopen().grants.list() }
        #expect(throws: VaultError.self) { try reopen().grants.consentReceipt(grantID: acme.grant.id) }
        // The server cannot open the bearer share under the changed limits, so it releases nothing.
        let outcome = try? redeem(try Redeemer(database: try VaultDatabase.open(path: path)), acme.token)
        if case .share = outcome { Issue.record("a share was released under a changed expiry") }
    }

    @Test func aRaisedUseLimitIsRefused() throws {
        try rawExecute(path, "UPDATE grants SET max_uses = 1000")
        #expect(throws: VaultError.mismatch(table: "grants", id: acme.grant.id, column: "column max_uses")) { try reopen().grants.list() }
    }

    @Test func aFormat2VaultSetBackToFormat1IsNotMigratedAgain() throws {
        // A migration would seal the plaintext as the truth: set the format back (and the
        // unkeyed checksum with it), drop the expiry, clear the MACs — the unlock refuses.
        var header = try VaultDatabase.open(path: path).header
        header.formatVersion = 1
        header.checksum = header.computeChecksum()
        try rawExecute(
            path,
            "UPDATE vault_header SET format_version = 1, mac = NULL, checksum = x'\(Hex.encode(header.checksum))'; UPDATE grants SET expires_at = NULL; UPDATE audit SET mac = NULL"
        )
        #expect(throws: VaultError.self) { try reopen() }
        #expect(throws: VaultError.self) { try Vault.unlock(path: path, passphrase: try testPassphrase()) }  // even with no checkpoint
        #expect(try VaultDatabase.open(path: path).header.formatVersion == 1)
    }

    @Test func anEntryNumberedZeroIsCaught() throws {
        try rawExecute(
            path, "INSERT INTO audit (seq, at, event, writer_id, body, hash) SELECT 0, at, 'share.redeemed', writer_id, body, hash FROM audit WHERE seq = 1")
        #expect(throws: VaultError.self) { try reopen().audit.entries() }
        guard case .broken(let firstBad, _) = try reopen().audit.verify().result else { return #expect(Bool(false)) }
        #expect(firstBad == 0)
    }

    @Test func anOlderCopyIsRefusedAfterARotationOnThisMachine() throws {
        let copy = dir.file("copy.db")
        vault.database.checkpoint()
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try vault.rotateKey(current: try testPassphrase(), new: try testPassphrase("a new passphrase"))
        #expect(throws: VaultError.self) { try Vault.unlock(path: copy, passphrase: try testPassphrase(), checkpoints: store) }
        _ = try Vault.unlock(path: path, passphrase: try testPassphrase("a new passphrase"), checkpoints: store)
    }

    @Test func aRemovedPurchasePutBackFromAnOlderCopyIsRefused() throws {
        let copy = dir.file("before.db")
        vault.database.checkpoint()
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let gift = try #require(try vault.purchases.list().first)
        try vault.purchases.remove(id: gift.id)
        try rawExecute(path, "ATTACH '\(copy)' AS old; INSERT INTO main.purchases SELECT * FROM old.purchases WHERE id = '\(gift.id)'")
        #expect(throws: VaultError.self) { try reopen().profile.set("email", value: "x@example.org") }
        #expect(throws: VaultError.self) { try reopen().grants.list() }
    }

    @Test func aRotationDoesNotAcceptAnUndoneRevocation() throws {
        let before = try RawDatabase.open(path).strings("SELECT hex(status_sealed) FROM grants").first ?? ""
        try vault.grants.revoke(id: acme.grant.id)
        try rawExecute(path, "UPDATE grants SET revoked_at = NULL, status_sealed = x'\(before)'")
        #expect(throws: VaultError.self) { try vault.rotateKey(current: try testPassphrase(), new: try testPassphrase("another one")) }
        _ = try Vault.unlock(path: path, passphrase: try testPassphrase())  // still the old key
    }

    @Test func aLoweredUseCountDoesNotRevive() throws {
        let once = try vault.grants.create(
            GrantRequest(vendorName: "Acme Outdoor", scopes: [.purchasesOwn], purpose: .support, expiresAt: nil, maxUses: 1))
        _ = try redeem(try Redeemer(database: try VaultDatabase.open(path: path)), once.token)
        try vault.profile.set("email", value: "a@example.org")  // the CLI sees (and seals) one use
        try rawExecute(path, "UPDATE grants SET use_count = 0")
        let reopened = try reopen()
        #expect(try reopened.grants.grant(id: once.grant.id).state(at: Date()) == .usedUp)
        try reopened.purchases.add([NewPurchase(vendorName: "Acme Outdoor", item: "Stove")])
        // No share to serve: the CLI destroyed it although the count in the clear says active.
        if case .share = try? redeem(try Redeemer(database: try VaultDatabase.open(path: path)), once.token) {
            Issue.record("the used-up grant served again")
        }
    }

    @Test func aForgedCLIEntryFailsVerifyAndIsNotShown() throws {
        // Append a grant.issued "sealed" with a writer key of one's own, chained with the public hash.
        let raw = try RawDatabase.open(path)
        let last = try #require(try raw.strings("SELECT seq || '|' || hex(hash) FROM audit ORDER BY seq DESC LIMIT 1").first).split(separator: "|")
        let seq = try #require(Int64(last[0])) + 1
        let forger = try AuditWriter(vaultBoxPublicKey: vault.keys.box.publicKey)
        let body = [UInt8](repeating: 7, count: 60)
        let hash = AuditChain.entryHash(
            previous: try #require(Hex.decode(String(last[1]))), seq: seq, atMillis: 1, event: "grant.issued", writerID: forger.id, body: body)
        try raw.execute(
            "INSERT INTO audit (seq, at, event, writer_id, body, hash) VALUES (\(seq), 1, 'grant.issued', '\(forger.id)', x'\(Hex.encode(body))', x'\(Hex.encode(hash))')"
        )
        guard case .broken(let firstBad, let reason) = try reopen().audit.verify().result else { return #expect(Bool(false)) }
        #expect(firstBad == seq)
        #expect(reason.contains("not authenticated by the vault key"))
        #expect(throws: VaultError.self) { try reopen().audit.entries() }
        #expect(throws: VaultError.self) { try reopen().profile.set("email", value: "x@example.org") }
    }

    @Test func anEntryEditedBeforeTheCheckpointIsNotShown() throws {
        try vault.profile.set("email", value: "later@example.org")  // the checkpoint moves past entry 1
        try rawExecute(path, "UPDATE audit SET at = at - 34560000000, event = 'grant.revoked' WHERE seq = 1")
        #expect(
            throws: VaultError.historyDamaged(
                firstBad: 1, reason: "entry 1 does not match its hash chain (edited, swapped, inserted or reordered)")
        ) { try reopen().audit.entries() }
    }

    @Test func deletingTheNewestCLIEntryIsCaughtByTheCheckpoint() throws {
        try rawExecute(path, "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)")
        guard case .broken(_, let reason) = try reopen().audit.verify().result else { return #expect(Bool(false)) }
        #expect(reason.contains("truncated or rolled back"))
    }

    @Test func aChangedWriterRowFailsVerify() throws {
        try rawExecute(path, "UPDATE audit_writers SET public_key = zeroblob(32)")
        guard case .broken(let firstBad, let reason) = try reopen().audit.verify().result else { return #expect(Bool(false)) }
        #expect(firstBad == 1)
        #expect(reason.contains("cannot be opened"))
    }

    @Test func aSwappedVaultIDOrAnyHeaderFieldFailsUnlock() throws {
        // The unkeyed checksum recomputed to match: only the key can tell.
        let raw = try RawDatabase.open(path)
        let original = try VaultDatabase.open(path: path).header
        var header = original
        header.createdAtMillis += 1
        header.checksum = header.computeChecksum()
        try raw.execute("UPDATE vault_header SET created_at = \(header.createdAtMillis), checksum = x'\(Hex.encode(header.checksum))'")
        #expect(throws: VaultError.tampered(table: "vault_header", id: "1")) { try reopen() }
        // A new vault id makes the wrapped key fail to open (it is bound to the id).
        header = original
        header.vaultID = Random.bytes(16)
        header.checksum = header.computeChecksum()
        try raw.execute(
            "UPDATE vault_header SET created_at = \(header.createdAtMillis), vault_id = x'\(Hex.encode(header.vaultID))', checksum = x'\(Hex.encode(header.checksum))'"
        )
        #expect(throws: VaultError.self) { try reopen() }
    }

    @Test func aSubstitutedCheckpointIsRefused() throws {
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.file("state")).first)
        let text = try String(contentsOfFile: dir.file("state/\(file)"), encoding: .utf8)
        let parts = text.split(separator: " ")
        try Data("2 \(parts[1]) \(parts[2]) 5 \(parts[4])".utf8).write(to: URL(fileURLWithPath: dir.file("state/\(file)")))
        #expect(throws: VaultError.self) { try reopen().audit.verify() }
    }
}
