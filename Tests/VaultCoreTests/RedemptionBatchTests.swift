import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport

@Suite struct RedemptionBatchTests: GrantFixture {
    let dir = TemporaryDirectory()
    let clock = TestClock()
    let vault: Vault

    init() throws {
        vault = try makeGrantFixtureVault(in: dir, clock: clock)
    }

    /// An approval prepared before a revocation is re-checked when it commits.
    @Test func aPreparedRedemptionThatLostItsGrantIsDeniedAtCommit() throws {
        let revoked = try grant()
        let changed = try grant([.profileField("address.shipping")])
        let redeemer = try redeemer()
        _ = try redeem(redeemer, revoked.token)
        _ = try redeem(redeemer, changed.token)
        let request = { (token: GrantToken) in RedemptionRequest(token: token.encoded()[...], client: "127.0.0.1", userAgent: "test", held: nil) }
        let prepared = [redeemer.prepare(request(revoked.token)), redeemer.prepare(request(changed.token))]
        try vault.grants.revoke(id: revoked.grant.id)
        try vault.profile.set("address.shipping", value: "2 New Rd")
        let outcomes = try redeemer.commit(prepared).map { try $0.get() }
        #expect(outcomes[0] == .denied(.revoked))
        // The share changed between prepare and commit: the vendor gets the new version.
        #expect(try vendorOpens(outcomes[1]).data.profile?["address.shipping"] == "2 New Rd")
        #expect(try vault.grants.grant(id: revoked.grant.id).useCount == 1)
        #expect(try vault.grants.grant(id: changed.grant.id).useCount == 2)
        #expect(try vault.audit.entries().filter { $0.event == "share.redeemed" }.count == 3)
    }

    /// One failing redemption in a batch fails alone; the others are answered and counted.
    @Test func aFailingRedemptionInABatchCostsOnlyItself() throws {
        let good = try grant()
        let tampered = try grant()
        let redeemer = try redeemer()
        _ = try redeem(redeemer, good.token)
        try rawExecute(dir.file("vault.db"), "UPDATE shares SET body = zeroblob(200) WHERE grant_id = '\(tampered.grant.id)'")
        let request = { (token: GrantToken) in RedemptionRequest(token: token.encoded()[...], client: "127.0.0.1", userAgent: "test", held: nil) }
        let results = redeemer.redeemBatch([request(good.token), request(tampered.token), request(good.token)])
        #expect(throws: VaultError.tampered(table: "shares", id: tampered.grant.id)) { try results[1].get() }
        for index in [0, 2] { #expect(try vendorOpens(try results[index].get()).data.profile == ["email": "jo@example.org"]) }
        // Read raw: the CLI refuses the tampered vault as a whole (its records digest).
        let raw = try RawDatabase.open(dir.file("vault.db"))
        #expect(try raw.int("SELECT use_count FROM grants WHERE id = '\(good.grant.id)'") == 3)
        #expect(try raw.int("SELECT use_count FROM grants WHERE id = '\(tampered.grant.id)'") == 0)
        #expect(try raw.int("SELECT count(*) FROM audit WHERE event = 'share.redeemed'") == 3)
    }

    /// Several approvals of one grant in a batch are counted together only when all of them fit;
    /// otherwise they are counted one by one, in order, and the ones past the limit are denied.
    @Test func approvalsOfOneGrantInABatchAreCountedExactlyAndInOrder() throws {
        let unlimited = try grant(maxUses: nil)
        let limited = try grant(maxUses: 3)
        let redeemer = try redeemer()
        _ = try redeem(redeemer, unlimited.token)
        _ = try redeem(redeemer, limited.token)
        let request = { (token: GrantToken) in RedemptionRequest(token: token.encoded()[...], client: "127.0.0.1", userAgent: "test", held: nil) }
        let batch = [limited, unlimited, limited, unlimited, limited, unlimited].map { request($0.token) }
        let results = redeemer.redeemBatch(batch).map { try? $0.get() }
        // Two uses of `limited` were left: its third request in the batch is the one refused.
        #expect(results[4] == .denied(.usedUp))
        for index in [0, 1, 2, 3, 5] { #expect(try vendorOpens(try #require(results[index])).version == 1) }
        #expect(try vault.grants.grant(id: unlimited.grant.id).useCount == 4)
        #expect(try vault.grants.grant(id: limited.grant.id).useCount == 3)
        let entries = try vault.audit.entries().suffix(6)
        #expect(entries.map(\.event) == ["share.redeemed", "share.redeemed", "share.redeemed", "share.redeemed", "share.denied", "share.redeemed"])
        #expect(entries.map(\.body.grantID) == [limited, unlimited, limited, unlimited, limited, unlimited].map(\.grant.id))
    }

    /// A statement failing mid-batch rolls the batch back; each request is then redone alone.
    @Test func aBatchThatFailsInTheDatabaseIsRedoneRequestByRequest() throws {
        let good = try grant()
        let redeemer = try redeemer()
        _ = try redeem(redeemer, good.token)
        // Every denial now fails to be recorded, as a full disk would make it.
        try rawExecute(
            dir.file("vault.db"),
            """
            CREATE TRIGGER refuse_denials BEFORE INSERT ON audit WHEN NEW.event = 'share.denied'
            BEGIN SELECT RAISE(ABORT, 'no room for this entry'); END
            """)
        let request = { (text: String) in RedemptionRequest(token: text[...], client: "127.0.0.1", userAgent: "test", held: nil) }
        let results = redeemer.redeemBatch([request(good.token.encoded()), request("vrm_garbage"), request(good.token.encoded())])
        #expect(throws: VaultError.self) { try results[1].get() }
        for index in [0, 2] { #expect(try vendorOpens(try results[index].get()).version == 1) }
        #expect(try vault.grants.grant(id: good.grant.id).useCount == 3)
        #expect(try vault.audit.entries().filter { $0.event == "share.redeemed" }.count == 3)
        #expect(try vault.audit.entries().allSatisfy { $0.event != "share.denied" })
    }
}
