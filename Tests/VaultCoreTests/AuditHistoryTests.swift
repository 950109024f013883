import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport

@Suite struct AuditHistoryTests {
    let dir = TemporaryDirectory()
    let vault: Vault
    let issued: IssuedGrant
    let checkpoints: AuditCheckpointStore

    /// A history of 6 entries: issue, 3 redemptions, a denial, a revocation.
    init() throws {
        checkpoints = AuditCheckpointStore(directory: dir.file("state"))
        vault = try makeVault(in: dir, checkpoints: checkpoints)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme")
        issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profileField("email")], purpose: .support, expiresAt: nil))
        let redeemer = try Redeemer(database: vault.database)
        for _ in 0..<3 { _ = try redeem(redeemer, issued.token) }
        _ = try redeem(redeemer, nil, text: "vrm_bogus")
        try vault.grants.revoke(id: issued.grant.id)
    }

    func verify() throws -> AuditVerification {
        try vault.audit.verify().result
    }

    @Test func theHistoryShowsWhoReceivedWhatAndVerifies() throws {
        let entries = try vault.audit.entries()
        #expect(entries.map(\.event) == ["grant.issued", "share.redeemed", "share.redeemed", "share.redeemed", "share.denied", "grant.revoked"])
        let redeemed = entries[1]
        #expect(redeemed.body.vendor == "Acme")
        #expect(redeemed.body.scopes == ["profile.email"])
        #expect(redeemed.body.client == "127.0.0.1")
        #expect(redeemed.body.userAgent == "test")
        #expect(entries[4].body.reason == "invalid_token")
        guard case .intact(let count, _) = try verify() else { return #expect(Bool(false)) }
        #expect(count == 6)
    }

    @Test func filtersSelectByVendorGrantAndTime() throws {
        try vault.vendors.add(name: "Bolt")
        let other = try vault.grants.create(GrantRequest(vendorName: "Bolt", scopes: [.profile], purpose: .research, expiresAt: nil))
        #expect(try vault.audit.entries(AuditFilter(vendorName: "Bolt")).map(\.body.grantID) == [other.grant.id])
        #expect(try vault.audit.entries(AuditFilter(grantID: issued.grant.id)).count == 5)
        #expect(try vault.audit.entries(AuditFilter(since: Date().addingTimeInterval(3600))).isEmpty)
    }

    @Test func theAuditBodiesAreNotInTheClear() throws {
        for needle in ["127.0.0.1", "Acme", "profile.email", "invalid_token"] {
            #expect(!rawVaultContains(dir.file("vault.db"), needle), "\(needle) is in the vault file")
        }
    }

    @Test func anEditedEntryIsNamed() throws {
        try rawExecute(dir.file("vault.db"), "UPDATE audit SET at = at + 1 WHERE seq = 3")
        #expect(try verify() == .broken(firstBad: 3, reason: "entry 3 does not match its hash chain (edited, swapped, inserted or reordered)"))
    }

    @Test func anEditedBodyIsNamed() throws {
        try rawExecute(dir.file("vault.db"), "UPDATE audit SET body = (SELECT body FROM audit WHERE seq = 2) WHERE seq = 4")
        guard case .broken(let seq, _) = try verify() else { return #expect(Bool(false)) }
        #expect(seq == 4)
    }

    @Test func aDeletedEntryIsNamed() throws {
        try rawExecute(dir.file("vault.db"), "DELETE FROM audit WHERE seq = 2")
        #expect(try verify() == .broken(firstBad: 2, reason: "entry 2 is missing (deleted)"))
    }

    @Test func swappedEntriesAreNamed() throws {
        try rawExecute(
            dir.file("vault.db"),
            """
            UPDATE audit SET seq = -1 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = -1;
            """)
        guard case .broken(let seq, _) = try verify() else { return #expect(Bool(false)) }
        #expect(seq == 4)
    }

    @Test func aTruncatedHistoryIsCaughtByTheCheckpoint() throws {
        // The CLI recorded a checkpoint at entry 6 (after revoking); drop the newest entry.
        #expect(try checkpoints.load(keys: vault.keys)?.seq == 6)
        try rawExecute(dir.file("vault.db"), "DELETE FROM audit WHERE seq = 6")
        guard case .broken(let seq, let reason) = try verify() else { return #expect(Bool(false)) }
        #expect(seq == 6)
        #expect(reason.contains("truncated or rolled back"))
    }

    @Test func aRewrittenChainIsCaughtByTheCheckpoint() throws {
        // Recompute a consistent chain after altering entry 6: the keyless check cannot tell; the
        // vault key's MAC on the CLI's entry (and the checkpoint) can.
        let raw = try RawDatabase.open(dir.file("vault.db"))
        try raw.execute("UPDATE audit SET event = 'grant.issued' WHERE seq = 6")
        let prevHex = try #require(try raw.strings("SELECT hex(hash) FROM audit WHERE seq = 5").first)
        let rows = try raw.strings("SELECT at || '|' || event || '|' || writer_id || '|' || hex(body) FROM audit WHERE seq = 6")
        let parts = try #require(rows.first).split(separator: "|").map(String.init)
        let hash = AuditChain.entryHash(
            previous: try #require(Hex.decode(prevHex)), seq: 6, atMillis: try #require(Int64(parts[0])),
            event: parts[1], writerID: parts[2], body: try #require(Hex.decode(parts[3])))
        try raw.execute("UPDATE audit SET hash = x'\(Hex.encode(hash))' WHERE seq = 6")
        let database = try VaultDatabase.open(path: dir.file("vault.db"))
        guard case .intact = try AuditVerifier.verify(database, checkpoint: nil) else { return #expect(Bool(false)) }
        guard case .broken(let seq, let reason) = try verify() else { return #expect(Bool(false)) }
        #expect(seq == 6)
        #expect(reason.contains("not authenticated by the vault key"))
    }
}
