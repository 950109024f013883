import Foundation
import Testing
@testable import VaultCore
import VaultCrypto
import VaultTestSupport

@Suite struct GrantLifecycleTests: GrantFixture {
    let dir = TemporaryDirectory()
    let clock = TestClock()
    let vault: Vault

    init() throws {
        vault = try makeGrantFixtureVault(in: dir, clock: clock)
    }

    @Test func aKeyBoundShareOpensOnlyWithTheVendorKey() throws {
        let vendorKey = try BoxKeyPair.generate()
        try vault.vendors.add(name: "Bolt", publicKey: VendorKeyText.encodePublic(vendorKey.publicKey))
        let issued = try grant(vendor: "Bolt")
        #expect(issued.grant.binding == .key)
        let outcome = try redeem(try redeemer(), issued.token)
        #expect(try vendorOpens(outcome, keyPair: vendorKey).data.profile == ["email": "jo@example.org"])
        #expect(throws: ShareFormatError.notForThisKey) { try vendorOpens(outcome, keyPair: try BoxKeyPair.generate()) }
    }

    @Test func changingAGrantedFieldChangesTheShareAndItsVersion() throws {
        let issued = try grant([.profileField("address.shipping")])
        let redeemer = try redeemer()
        let first = try vendorOpens(try redeem(redeemer, issued.token))
        try vault.profile.set("email", value: "other@example.org")
        #expect(try vault.grants.grant(id: issued.grant.id).shareVersion == 1, "an ungranted change must not rebuild the share")
        try vault.profile.set("address.shipping", value: "2 New Rd")
        let second = try vendorOpens(try redeem(redeemer, issued.token))
        #expect(first.data.profile?["address.shipping"] == "1 Main St")
        #expect(second.data.profile?["address.shipping"] == "2 New Rd")
        #expect(second.version == first.version + 1)
        try vault.profile.unset("address.shipping")
        let third = try vendorOpens(try redeem(redeemer, issued.token))
        #expect(third.data.profile == [:])
        #expect(third.version == 3)
    }

    /// A client over its failure limit: a genuine token of an active grant is answered, one of a
    /// revoked grant (or a wrong one) gets 429 and writes nothing.
    @Test func overTheLimitOnlyAnActiveGrantsTokenIsAnswered() throws {
        let active = try grant()
        let revoked = try grant()
        try vault.grants.revoke(id: revoked.grant.id)
        let redeemer = try redeemer()
        let before = try vault.audit.entries().count
        func limited(_ token: GrantToken) throws -> RedemptionOutcome {
            var request = RedemptionRequest(token: token.encoded()[...], client: "192.0.2.1", userAgent: nil, held: nil)
            request.limited = true
            return try redeemer.redeem(request)
        }
        #expect(try limited(revoked.token) == .rateLimited)
        #expect(try limited(try GrantToken.generate()) == .rateLimited)
        guard case .share = try limited(active.token) else { return #expect(Bool(false), "a genuine token was refused") }
        #expect(try vault.audit.entries().count == before + 1)
    }

    /// The version (the vendor's ETag) moves only when what the share says changes: a vendor
    /// polling with If-None-Match pays a counted 200 only for new data.
    @Test func aChangeThatLeavesTheSharedDataAloneKeepsTheVersion() throws {
        let issued = try grant([.purchasesOwn])
        try vault.vendors.edit(named: "Acme", VendorEdit(stage: .commitment))  // not shared without `vendor`
        try vault.vendors.edit(named: "Acme", VendorEdit(notes: "kind people"))  // nor without `vendor.notes`
        #expect(try vault.grants.grant(id: issued.grant.id).shareVersion == 1)
        #expect(try vault.audit.entries().filter { $0.event == "share.rematerialised" }.isEmpty)
        try vault.purchases.add([NewPurchase(vendorName: "Acme", item: "Stove")])
        #expect(try vault.grants.grant(id: issued.grant.id).shareVersion == 2)
    }

    @Test func ifNoneMatchWithTheCurrentVersionIsNotModifiedAndNotCounted() throws {
        let issued = try grant()
        let redeemer = try redeemer()
        _ = try redeem(redeemer, issued.token)
        #expect(try redeem(redeemer, issued.token, held: .versions([1])) == .notModified(version: 1))
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == 1)
        // Every answer to a genuine token is on the record: the 304 too, with no use counted.
        let unchanged = try vault.audit.entries().filter { $0.event == AuditEvent.shareNotModified.rawValue }
        #expect(unchanged.count == 1)
        #expect(unchanged.first?.body.version == 1)
        #expect(unchanged.first?.authenticated == false)
        // A conditional request with a wrong token is still a 401, not a 304.
        #expect(try redeem(redeemer, nil, text: "vrm_bogus", held: .any) == .invalidToken)
    }

    @Test func revocationIsImmediateAndDestroysTheShare() throws {
        let issued = try grant()
        let redeemer = try redeemer()
        guard case .share(let body, _, _) = try redeem(redeemer, issued.token) else { return #expect(Bool(false)) }
        try vault.grants.revoke(id: issued.grant.id)
        #expect(try redeem(redeemer, issued.token) == .denied(.revoked))
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == 1)
        #expect(try RawDatabase.open(dir.file("vault.db")).int("SELECT count(*) FROM shares") == 0)
        #expect(!rawVaultBytes(dir.file("vault.db")).contains { $0.range(of: Data(body.prefix(64))) != nil })
        #expect(throws: VaultError.conflict("grant \(issued.grant.id) is already revoked")) { try vault.grants.revoke(id: issued.grant.id) }
        #expect(throws: VaultError.notFound(kind: "grant", id: "gr_nope")) { try vault.grants.revoke(id: "gr_nope") }
    }

    @Test func expiryIsEnforcedWithAnInjectedClock() throws {
        let issued = try grant(expires: 60)
        let redeemer = try redeemer()
        #expect(try redeem(redeemer, issued.token) != .denied(.expired))
        clock.advance(by: 61)
        #expect(try redeem(redeemer, issued.token) == .denied(.expired))
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == 1)
        #expect(try vault.grants.grant(id: issued.grant.id).state(at: clock.now) == .expired)
    }

    @Test func sharesOfExpiredGrantsAreDestroyedByTheNextChange() throws {
        let issued = try grant(expires: 60)
        let live = try grant(expires: 3600)
        clock.advance(by: 61)
        try vault.profile.set("phone", value: "+1 555 0100")
        let raw = try RawDatabase.open(dir.file("vault.db"))
        #expect(try raw.strings("SELECT grant_id FROM shares") == [live.grant.id])
        #expect(try raw.int("SELECT count(*) FROM grants WHERE share_key_sealed IS NOT NULL AND id = '\(issued.grant.id)'") == 0)
    }

    @Test func theWriterCommitsWithSynchronousFull() throws {
        let synchronous = try vault.database.writerSynchronousMode()
        #expect(synchronous == 2)
    }

    @Test func theUseLimitHolds() throws {
        let issued = try grant(maxUses: 2)
        let redeemer = try redeemer()
        _ = try redeem(redeemer, issued.token)
        _ = try redeem(redeemer, issued.token)
        #expect(try redeem(redeemer, issued.token) == .denied(.usedUp))
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == 2)
    }

    @Test func wrongSecretsUnknownAndMalformedTokensAreAllInvalid() throws {
        let issued = try grant()
        let redeemer = try redeemer()
        let other = try GrantToken.generate()
        // Right selector, wrong secret.
        let forged = "vrm_" + Base64URL.encode(issued.token.selector + other.secret.exposedCopy())
        let forgedText =
            forged + Base64URL.encode(Array(BLAKE2b.hash([Array("vrm-token-v1".utf8), issued.token.selector + other.secret.exposedCopy()]).prefix(4)))
        for text in ["", "garbage", forgedText, other.encoded(), String(repeating: "A", count: 10_240)] {
            #expect(try redeem(redeemer, nil, text: text) == .invalidToken)
        }
        #expect(try redeemer.redeem(RedemptionRequest(token: nil, client: "x", userAgent: nil, held: nil)) == .invalidToken)
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == 0)
    }

    @Test func aGrantTheRedeemerHasSeenIsCheckedAsStrictlyAsANewOne() throws {
        let issued = try grant()
        let redeemer = try redeemer()
        _ = try redeem(redeemer, issued.token)
        let other = try GrantToken.generate()
        let forged = "vrm_" + Base64URL.encode(issued.token.selector + other.secret.exposedCopy())
        let forgedText =
            forged + Base64URL.encode(Array(BLAKE2b.hash([Array("vrm-token-v1".utf8), issued.token.selector + other.secret.exposedCopy()]).prefix(4)))
        #expect(try redeem(redeemer, nil, text: forgedText) == .invalidToken)
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == 1)
        let denial = try #require(try vault.audit.entries().last)
        #expect(denial.event == "share.denied" && denial.body.reason == "invalid_token" && denial.body.grantID == issued.grant.id)
    }

    @Test func badGrantRequestsAreRefusedAndWriteNothing() throws {
        let before = try RawDatabase.open(dir.file("vault.db")).int("SELECT count(*) FROM grants")
        #expect(throws: VaultError.notFound(kind: "vendor", id: "\"Nobody\" (`vrm vendor list` shows them)")) { try grant(vendor: "Nobody") }
        #expect(throws: VaultError.self) { try grant(maxUses: 0) }
        #expect(throws: VaultError.self) { try grant(maxUses: -3) }
        #expect(throws: VaultError.self) { try grant(expires: -10) }
        #expect(throws: VaultError.self) { try grant([]) }
        #expect(throws: VaultError.self) { try vault.vendors.add(name: "Bad", publicKey: "vrmpk1_definitely-not-a-key") }
        #expect(try RawDatabase.open(dir.file("vault.db")).int("SELECT count(*) FROM grants") == before)
        #expect(try vault.vendors.all().map(\.name) == ["Acme"])
    }

    @Test func removingAVendorRevokesItsGrants() throws {
        let issued = try grant()
        #expect(try vault.vendors.remove(named: "acme") == 1)
        #expect(try redeem(try redeemer(), issued.token) == .denied(.revoked))
        #expect(throws: VaultError.notFound(kind: "vendor", id: "\"Acme\" (there are no vendors yet; add one with `vrm vendor add`)")) {
            try vault.vendors.vendor(named: "Acme")
        }
    }

    @Test func theReceiptHasTheKantaraFields() throws {
        try vault.profile.set("name", value: "Jo")
        let issued = try vault.grants.create(
            GrantRequest(
                vendorName: "Acme", scopes: [.profileField("email")], purpose: .warranty,
                expiresAt: nil, terms: "https://acme.example/terms", jurisdiction: "EU"))
        let data = try JSONEncoder().encode(try vault.grants.consentReceipt(grantID: issued.grant.id))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["version"] as? String == "KI-CR-v1.1.0")
        #expect(json["jurisdiction"] as? String == "EU")
        #expect(json["piiPrincipalId"] as? String == "jo@example.org")
        #expect(json["policyUrl"] as? String == "https://acme.example/terms")
        #expect((json["consentReceiptID"] as? String)?.count == 36)
        let controllers = try #require(json["piiControllers"] as? [[String: Any]])
        #expect(controllers.first?["piiController"] as? String == "Acme")
        let services = try #require(json["services"] as? [[String: Any]])
        let purposes = try #require(services.first?["purposes"] as? [[String: Any]])
        #expect(purposes.first?["purposeCategory"] as? [String] == ["warranty"])
        #expect(purposes.first?["piiCategory"] as? [String] == ["profile:profile.email"])
        #expect((purposes.first?["termination"] as? String)?.contains("Does not expire") == true)
    }
}
