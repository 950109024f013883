import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport

/// Whoever can write the vault file can put any value in any column. Nothing may trap: every
/// read, report, re-materialisation and redemption either works or throws a `VaultError`.
/// Each case puts one value of the wrong kind into one column of one row of a populated vault.
@Suite struct TamperedColumnTests {
    /// A populated vault file (every table has rows) and the tokens of its grants.
    struct Populated {
        let dir = TemporaryDirectory()
        let tokens: [GrantToken]

        init() throws {
            let vault = try makeVault(in: dir)
            try vault.profile.set("email", value: "jo@example.org")
            try vault.vendors.add(name: "Acme")
            let key = try BoxKeyPair.generate()
            try vault.vendors.add(name: "Bolt", publicKey: VendorKeyText.encodePublic(key.publicKey))
            try vault.purchases.add([
                NewPurchase(vendorName: "Acme", item: "Tent", orderNumber: "A-1"),
                NewPurchase(vendorName: "Bolt", item: "Bike", giftFor: "Sam"),
            ])
            try vault.cases.open(NewCase(vendorName: "Acme", subject: "Broken pole"))
            let scopes: [Scope] = [.profile, .purchasesOwn, .casesOwn, .vendor]
            let bearer = try vault.grants.create(
                GrantRequest(
                    vendorName: "Acme", scopes: scopes, purpose: .delivery,
                    expiresAt: Date().addingTimeInterval(3600), maxUses: 10))
            let keyed = try vault.grants.create(GrantRequest(vendorName: "Bolt", scopes: scopes, purpose: .warranty, expiresAt: nil))
            let revoked = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .support, expiresAt: nil))
            try vault.grants.revoke(id: revoked.grant.id)
            // Access requests (`Specs/requests.md`): one approved, one pending, each with its link;
            // the approved one's grant has a webhook.
            let inbox = try VaultRequestInbox(database: try VaultDatabase.open(path: dir.file("vault.db")))
            var requestIDs: [String] = []
            for _ in 0..<2 {
                let link = try vault.requests.link(vendor: "Cobalt", expiresIn: 3600, endpoint: "https://vault.example")
                let query = URLComponents(string: "x://x?" + (link.uri.split(separator: "?").last.map(String.init) ?? ""))?.queryItems ?? []
                let code = try RequestCode.parse(query.first { $0.name == "code" }?.value ?? "")
                let body = AccessRequestBody(
                    vendor: .init(name: "Cobalt"), vendorKey: VendorKeyText.encodePublic(try BoxKeyPair.generate().publicKey),
                    scopes: ["profile.email"], purpose: "support", expiresIn: 86_400, notifyURL: "https://cobalt.example/hook")
                let sealed = try SealedBox.seal(Array(try JSONEncoder().encode(body)), to: vault.keys.box.publicKey)
                let (auth, parts) = try RequestSubmission(code: code, sealed: sealed).parsed()
                requestIDs.append(try inbox.receive(code: auth, body: parts, nowMillis: Millis.from(Date())))
            }
            _ = try vault.requests.approve(id: requestIDs[0], narrowing: RequestNarrowing())
            // A change the approved grant's webhook is told of (`notify_outbox`), and the
            // customer's own channel (`notify_settings`).
            try vault.profile.set("email", value: "jo@changed.example.org")
            try vault.notifications.set(CustomerChannel(kind: .ntfy, url: "https://ntfy.example/topic"))
            tokens = [bearer.token, keyed.token, revoked.token]
            // A relay link, so `relay_link` and `relay_outbox` have rows (no relay is asked).
            try vault.relay.link(url: "https://relay.example")
            let redeemer = try Redeemer(database: try VaultDatabase.open(path: dir.file("vault.db")))
            for token in tokens { _ = try redeemer.redeem(RedemptionRequest(token: token.encoded()[...], client: "127.0.0.1", userAgent: "t", held: nil)) }
            // A key rotation, so `retired_keys` has a row too (same passphrase, new master key).
            try vault.rotateKey(current: try testPassphrase(), new: try testPassphrase())
            vault.database.checkpoint()
            // The link's state was re-sealed under the new key.
            let reopened = try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase())
            guard try reopened.relay.state()?.url == "https://relay.example" else { throw VaultError.corrupt("the relay link was lost") }
        }
    }

    static let populated = Result { try Populated() }

    /// Every column of every table of the vault.
    static let columns: [(table: String, column: String)] = {
        guard let vault = try? populated.get(), let raw = try? RawDatabase.open(vault.dir.file("vault.db")) else { return [] }
        return (try? raw.columns()) ?? []
    }()

    static let values = ["NULL", "'tampered'", "-9223372036854775808", "9223372036854775807", "1.5", "x''", "x'00ff'"]

    /// A damaged row stops every change (format 2: the records digest no longer matches), so
    /// nothing is signed from a vault in that state; the export, which changes nothing, still
    /// reads what opens, for a fresh vault (`vrm import-all`).
    @Test func aDamagedFieldStopsChangesWhileOtherReadsStillWork() throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme")
        try rawExecute(dir.file("vault.db"), "UPDATE profile SET sealed = 'damaged'")
        #expect(throws: VaultError.self) { try vault.profile.value("email") }
        #expect(throws: VaultError.self) { try vault.profile.set("email", value: "new@example.org") }
        #expect(throws: VaultError.self) { try vault.vendors.add(name: "Bolt") }
        #expect(try vault.vendors.all().map(\.name) == ["Acme"])
    }

    @Test func everyTableAndColumnIsCovered() throws {
        #expect(
            Set(Self.columns.map(\.table)) == [
                "access_requests", "audit", "audit_writers", "cases", "grant_notify", "grants", "notify_outbox", "notify_settings", "profile",
                "purchases", "relay_link", "relay_outbox", "request_links", "retired_keys", "shares", "vault_header", "vendors",
            ])
        #expect(Self.columns.count > 60)
    }

    @Test(arguments: columns.map { "\($0.table).\($0.column)" })
    func aWrongValueInAColumnNeverTraps(_ target: String) throws {
        let source = try Self.populated.get()
        let parts = target.split(separator: ".").map(String.init)
        let (table, column) = (parts[0], parts[1])
        for value in Self.values {
            let dir = TemporaryDirectory()
            let path = dir.file("vault.db")
            try FileManager.default.copyItem(atPath: source.dir.file("vault.db"), toPath: path)
            do {
                try rawExecute(path, "UPDATE \(table) SET \(column) = \(value) WHERE rowid = (SELECT min(rowid) FROM \(table))")
            } catch {
                continue  // SQLite itself refuses it (NOT NULL, UNIQUE, CHECK, a foreign key)
            }
            exercise(path, tokens: source.tokens, context: "\(target) = \(value)")
        }
    }

    /// Runs everything that reads the file; each must work or throw a `VaultError`.
    func exercise(_ path: String, tokens: [GrantToken], context: String) {
        func attempt(_ what: String, _ body: () throws -> Void) {
            do {
                try body()
            } catch {
                #expect(error is VaultError, "\(context): \(what) threw \(type(of: error))")
            }
        }
        attempt("verify") { _ = try AuditVerifier.verify(try VaultDatabase.open(path: path), checkpoint: nil) }
        attempt("redeem") {
            let redeemer = try Redeemer(database: try VaultDatabase.open(path: path))
            _ = redeemer.isReady()
            for token in tokens {
                attempt("redeem") { _ = try redeemer.redeem(RedemptionRequest(token: token.encoded()[...], client: "c", userAgent: nil, held: nil)) }
                attempt("redeem 304") { _ = try redeemer.redeem(RedemptionRequest(token: token.encoded()[...], client: "c", userAgent: nil, held: .any)) }
            }
        }
        attempt("request outcome") {
            let inbox = try VaultRequestInbox(database: try VaultDatabase.open(path: path))
            for id in (try? RawDatabase.open(path).strings("SELECT id FROM access_requests")) ?? [] {
                // An id changed in the row is one the endpoint does not hold: a refusal, not a trap.
                attempt("outcome") {
                    do {
                        _ = try inbox.outcome(id: id, nowMillis: Millis.from(Date()))
                    } catch is RequestRefusal {}
                }
            }
        }
        attempt("webhooks") {
            let store = VaultWebhookStore(database: try VaultDatabase.open(path: path))
            for delivery in try store.dueDeliveries(nowMillis: Millis.from(Date()) + 86_400_000, limit: 10) {
                attempt("record") { try store.record(delivery, result: .failed(status: 500, error: "test"), nowMillis: Millis.from(Date())) }
            }
            attempt("jwk") { _ = try store.notificationJWK() }
        }
        attempt("activity") {
            let activity = VaultActivity(database: try VaultDatabase.open(path: path))
            _ = try activity.channel()
            let first = try activity.read(since: nil)
            _ = try activity.read(since: first.snapshot)
        }
        attempt("unlock") {
            let vault = try Vault.unlock(path: path, passphrase: try testPassphrase())
            attempt("profile") { _ = try vault.profile.all() }
            attempt("vendors") { _ = try vault.vendors.all() }
            attempt("purchases") { _ = try vault.purchases.list() }
            attempt("cases") { _ = try vault.cases.list() }
            attempt("grants") {
                for grant in try vault.grants.list() {
                    _ = grant.state(at: Date())
                    _ = grant.usesLeft
                    attempt("receipt") { _ = try vault.grants.consentReceipt(grantID: grant.id) }
                }
            }
            attempt("notify settings") { _ = try vault.notifications.channel() }
            attempt("webhook status") {
                for grant in try vault.grants.list() { _ = try vault.grants.webhookStatus(grantID: grant.id) }
            }
            attempt("requests") {
                for request in try vault.requests.all() {
                    attempt("request") { _ = try vault.requests.request(id: request.id) }
                    attempt("approve") { _ = try vault.requests.approve(id: request.id, narrowing: RequestNarrowing()) }
                    attempt("deny") { _ = try vault.requests.deny(id: request.id, reason: nil) }
                }
            }
            attempt("audit") { _ = try vault.audit.entries() }
            attempt("audit verify") { _ = try vault.audit.verify() }
            attempt("spending") { _ = try vault.reports.spending(by: .vendor) }
            attempt("scorecards") { _ = try vault.reports.vendorScorecards() }
            attempt("exposure") { _ = try vault.reports.exposure() }
            attempt("export") { _ = try vault.portability.export(.json) }
            attempt("rematerialise") { try vault.profile.set("email", value: "new@example.org") }
            attempt("purchase") { try vault.purchases.add([NewPurchase(vendorName: "Acme", item: "Stove")]) }
        }
    }
}
