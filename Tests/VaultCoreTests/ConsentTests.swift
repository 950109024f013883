import Foundation
import Testing
@testable import VaultCore
import VaultCrypto
import VaultTestSupport

/// Opens a bearer share the way a vendor would: from the server's answer, with libsodium only.
func vendorOpens(_ outcome: RedemptionOutcome, keyPair: BoxKeyPair? = nil) throws -> ShareDocument {
    guard case .share(let body, _, _) = outcome else {
        Issue.record("expected a share, got \(outcome)")
        throw VaultError.notFound(kind: "share", id: "")
    }
    let signed: SignedShare
    if let keyPair {
        signed = try JSONDecoder().decode(SealedShare.self, from: Data(body)).open(with: keyPair)
    } else {
        signed = try JSONDecoder().decode(SignedShare.self, from: Data(body))
    }
    return try signed.verified().document
}

func redeem(_ redeemer: Redeemer, _ token: GrantToken?, text: String? = nil, held: HeldVersions? = nil) throws -> RedemptionOutcome {
    let tokenText = text ?? token?.encoded()
    return try redeemer.redeem(RedemptionRequest(token: tokenText.map { $0[...] }, client: "127.0.0.1", userAgent: "test", held: held))
}

@Suite struct ScopeTests {
    @Test(arguments: ["profile", "profile.email", "profile.address.*", "profile.address.shipping", "vendor", "vendor.notes"])
    func validScopesRoundTrip(_ text: String) throws {
        #expect(try Scope.parse(text).description == text)
    }

    @Test(arguments: ["", "profiles", "profile.", "profile.*", "profile.Email", "purchases:everything", "vendor.secrets", "profile..x", "profile.a b"])
    func unknownScopesAreAnErrorListingTheValidOnes(_ text: String) {
        #expect {
            try Scope.parse(text)
        } throws: { error in
            "\(error)".contains("valid scopes: profile, profile.KEY, profile.PREFIX.*, vendor, vendor.notes")
        }
    }

    @Test func unknownPurposesListTheVocabulary() throws {
        #expect { try Purpose.parse("spying") } throws: { "\($0)".contains("service-provision, delivery, warranty, support") }
        #expect(try Purpose.parse("legal-compliance") == .legalCompliance)
    }
}

/// scope × profile field → whether the share holds it.
@Suite struct ShareContentDecisionTable {
    static let profile = [("name", "Jo"), ("email", "jo@example.org"), ("address.shipping", "1 Main St"),
                          ("address.billing", "PO Box 9"), ("size.shoe", "42"), ("addressbook", "not an address")]

    static let table: [(scope: String, shared: Set<String>)] = [
        ("profile", ["name", "email", "address.shipping", "address.billing", "size.shoe", "addressbook"]),
        ("profile.email", ["email"]),
        ("profile.address.*", ["address.shipping", "address.billing"]),
        ("profile.address.shipping", ["address.shipping"]),
        ("profile.size.*", ["size.shoe"]),
        ("profile.phone", []),
        ("vendor", []),
    ]

    @Test(arguments: table)
    func theShareHoldsExactlyTheGrantedFields(scope: String, shared: Set<String>) throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        for (key, value) in Self.profile { try vault.profile.set(key, value: value) }
        try vault.vendors.add(name: "Acme", site: "https://acme.example")
        try vault.vendors.edit(named: "Acme", VendorEdit(notes: "private note"))
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [try Scope.parse(scope)], purpose: .delivery, expiresAt: nil))
        let document = try vendorOpens(try redeem(try Redeemer(database: vault.database), issued.token))
        let keys = Set((document.data.profile ?? [:]).keys)
        #expect(keys == shared)
        for (key, value) in Self.profile where !shared.contains(key) {
            #expect(!(document.data.profile ?? [:]).values.contains(value), "\(key) leaked")
        }
        #expect((document.data.vendor != nil) == (scope == "vendor"))
        #expect(document.data.vendor?.notes == nil)
        #expect(document.scopes == [scope])
        #expect(document.purpose == "delivery")
        #expect(document.grantID == issued.grant.id)
        #expect(document.vaultID == vault.database.header.vaultIDHex)
    }

    @Test func vendorNotesAreSharedOnlyWithTheirOwnScope() throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.vendors.add(name: "Acme")
        try vault.vendors.edit(named: "Acme", VendorEdit(notes: "slow refunds"))
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.vendor, .vendorNotes], purpose: .support, expiresAt: nil))
        let document = try vendorOpens(try redeem(try Redeemer(database: vault.database), issued.token))
        #expect(document.data.vendor?.notes == "slow refunds")
        #expect(document.data.vendor?.stage == "awareness")
        #expect(document.data.profile == nil)
    }

    @Test func vendorNotesAloneShareOnlyTheNameAndNotes() throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.vendors.add(name: "Acme", site: "https://acme.example", contact: "help@acme.example")
        try vault.vendors.edit(named: "Acme", VendorEdit(notes: "slow refunds"))
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.vendorNotes], purpose: .support, expiresAt: nil))
        let document = try vendorOpens(try redeem(try Redeemer(database: vault.database), issued.token))
        let shared = try #require(document.data.vendor)
        #expect(shared.name == "Acme" && shared.notes == "slow refunds")
        #expect(shared.site == nil && shared.contact == nil && shared.stage == nil)
    }
}

@Suite struct GrantTests {
    let dir = TemporaryDirectory()
    let clock = TestClock()
    let vault: Vault

    init() throws {
        vault = try makeVault(in: dir, clock: clock.closure)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.profile.set("address.shipping", value: "1 Main St")
        try vault.vendors.add(name: "Acme")
    }

    func redeemer() throws -> Redeemer { try Redeemer(database: vault.database, clock: clock.closure) }

    func grant(_ scopes: [Scope] = [.profileField("email")], expires: TimeInterval? = 3600, maxUses: Int? = nil, vendor: String = "Acme") throws -> IssuedGrant {
        try vault.grants.create(GrantRequest(vendorName: vendor, scopes: scopes, purpose: .delivery,
                                           expiresAt: expires.map { clock.now.addingTimeInterval($0) }, maxUses: maxUses))
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

    @Test func ifNoneMatchWithTheCurrentVersionIsNotModifiedAndNotCounted() throws {
        let issued = try grant()
        let redeemer = try redeemer()
        _ = try redeem(redeemer, issued.token)
        #expect(try redeem(redeemer, issued.token, held: .versions([1])) == .notModified(version: 1))
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == 1)
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
        let forgedText = forged + Base64URL.encode(Array(BLAKE2b.hash([Array("vrm-token-v1".utf8), issued.token.selector + other.secret.exposedCopy()]).prefix(4)))
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
        let forgedText = forged + Base64URL.encode(Array(BLAKE2b.hash([Array("vrm-token-v1".utf8), issued.token.selector + other.secret.exposedCopy()]).prefix(4)))
        #expect(try redeem(redeemer, nil, text: forgedText) == .invalidToken)
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == 1)
        let denial = try #require(try vault.audit.entries().last)
        #expect(denial.event == "share.denied" && denial.body.reason == "invalid_token" && denial.body.grantID == issued.grant.id)
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
        #expect(try vault.grants.grant(id: good.grant.id).useCount == 3)
        #expect(try vault.grants.grant(id: tampered.grant.id).useCount == 0)
        #expect(try vault.audit.entries(AuditFilter(grantID: tampered.grant.id)).allSatisfy { $0.event != "share.redeemed" })
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
        try rawExecute(dir.file("vault.db"), """
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

    @Test func badGrantRequestsAreRefusedAndWriteNothing() throws {
        let before = try RawDatabase.open(dir.file("vault.db")).int("SELECT count(*) FROM grants")
        #expect(throws: VaultError.notFound(kind: "vendor", id: "")) { try grant(vendor: "Nobody") }
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
        #expect(throws: VaultError.notFound(kind: "vendor", id: "")) { try vault.vendors.vendor(named: "Acme") }
    }

    @Test func theReceiptHasTheKantaraFields() throws {
        try vault.profile.set("name", value: "Jo")
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profileField("email")], purpose: .warranty,
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
