import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport

/// Someone who can write the vault file but lacks the passphrase (`Specs/vault-format.md`,
/// "Someone who can write the file"). For every column of every table, changed several ways
/// (another row's value, NULL, a wrong type), then: the CLI re-materialises, lists and
/// verifies, and every token is redeemed. No share may hold data outside its grant, no revoked
/// or used-up grant may serve again, nothing may trap; the CLI refuses (a `VaultError`) or
/// ignores the value.
@Suite struct WritableFileTests {
    struct Populated {
        let dir = TemporaryDirectory()
        /// Tokens of: the bearer grant to Acme, the key-bound grant to Bolt, a revoked grant, a used-up grant.
        let tokens: [String: GrantToken]
        let bolt: BoxKeyPair
        let signer: [UInt8]
        /// What each grant may share: purchase ids, case ids, profile keys.
        let allowed: [String: (purchases: Set<String>, cases: Set<String>, profile: Set<String>)]
        let grantOfToken: [String: String]

        init() throws {
            let store = AuditCheckpointStore(directory: dir.file("state"))
            let vault = try makeVault(in: dir, checkpoints: store)
            try vault.profile.set("email", value: "jo@example.org")
            try vault.profile.set("phone", value: "+1 555 0100")
            try vault.vendors.add(name: "Acme")
            bolt = try BoxKeyPair.generate()
            try vault.vendors.add(name: "Bolt", publicKey: VendorKeyText.encodePublic(bolt.publicKey))
            try vault.purchases.add([
                NewPurchase(vendorName: "Acme", item: "Tent", orderNumber: "A-1"),
                NewPurchase(vendorName: "Bolt", item: "Bike", giftFor: "Sam"),
                NewPurchase(vendorName: "Bolt", item: "Lamp"),
            ])
            try vault.cases.open(NewCase(vendorName: "Acme", subject: "Broken pole"))
            try vault.cases.open(NewCase(vendorName: "Bolt", subject: "Private matter"))
            let acme = try vault.grants.create(
                GrantRequest(
                    vendorName: "Acme", scopes: [.profileField("email"), .purchasesOwn, .casesOwn, .vendor], purpose: .delivery,
                    expiresAt: Date().addingTimeInterval(86400), maxUses: 50))
            let keyed = try vault.grants.create(
                GrantRequest(vendorName: "Bolt", scopes: [.purchasesOwn, .casesOwn], purpose: .warranty, expiresAt: nil))
            let revoked = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .support, expiresAt: nil))
            let limited = try vault.grants.create(
                GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .marketing, expiresAt: nil, maxUses: 1))
            let redeemer = try Redeemer(database: try VaultDatabase.open(path: dir.file("vault.db")))
            _ = try redeem(redeemer, limited.token)
            try vault.grants.revoke(id: revoked.grant.id)
            try vault.profile.set("phone", value: "+1 555 0199")  // purges the used-up share
            tokens = ["acme": acme.token, "bolt": keyed.token, "revoked": revoked.token, "limited": limited.token]
            grantOfToken = ["acme": acme.grant.id, "bolt": keyed.grant.id, "revoked": revoked.grant.id, "limited": limited.grant.id]
            signer = vault.keys.signing.publicKey
            let purchases = try vault.purchases.list()
            let cases = try vault.cases.list()
            let acmeID = try vault.vendors.vendor(named: "Acme").id
            let boltID = try vault.vendors.vendor(named: "Bolt").id
            allowed = [
                acme.grant.id: (
                    Set(purchases.filter { $0.vendorID == acmeID }.map(\.id)), Set(cases.filter { $0.vendorID == acmeID }.map(\.id)), ["email"]
                ),
                keyed.grant.id: (Set(purchases.filter { $0.vendorID == boltID }.map(\.id)), Set(cases.filter { $0.vendorID == boltID }.map(\.id)), []),
            ]
            vault.database.checkpoint()
        }
    }

    static let populated = Result { try Populated() }

    static let columns: [(table: String, column: String)] = {
        guard let vault = try? populated.get(), let raw = try? RawDatabase.open(vault.dir.file("vault.db")) else { return [] }
        return (try? raw.columns()) ?? []
    }()

    /// The changes made to the first row (and, for copies, between the first and the last).
    static func changes(_ table: String, _ column: String) -> [String] {
        let first = "rowid = (SELECT min(rowid) FROM \(table))"
        let last = "rowid = (SELECT max(rowid) FROM \(table))"
        return [
            "UPDATE \(table) SET \(column) = (SELECT \(column) FROM \(table) WHERE \(last)) WHERE \(first)",
            "UPDATE \(table) SET \(column) = (SELECT \(column) FROM \(table) WHERE \(first)) WHERE \(last)",
            "UPDATE \(table) SET \(column) = NULL WHERE \(first)",
            "UPDATE \(table) SET \(column) = 'ten' WHERE \(first)",
            "UPDATE \(table) SET \(column) = 1.5 WHERE \(first)",
            "UPDATE \(table) SET \(column) = x'00ff' WHERE \(first)",
            "UPDATE \(table) SET \(column) = NULL",
        ]
    }

    @Test func everyTableIsCovered() {
        #expect(Set(Self.columns.map(\.table)).isSuperset(of: ["audit", "grants", "purchases", "cases", "profile", "vendors", "shares", "vault_header"]))
    }

    @Test(arguments: columns.map { "\($0.table).\($0.column)" })
    func aChangedColumnNeverWidensAShare(_ target: String) throws {
        let source = try Self.populated.get()
        let parts = target.split(separator: ".").map(String.init)
        for change in Self.changes(parts[0], parts[1]) {
            let dir = TemporaryDirectory()
            let path = dir.file("vault.db")
            try FileManager.default.copyItem(atPath: source.dir.file("vault.db"), toPath: path)
            try FileManager.default.copyItem(atPath: source.dir.file("state"), toPath: dir.file("state"))
            do { try rawExecute(path, change) } catch { continue }  // SQLite refuses it
            check(source, path: path, state: dir.file("state"), context: change)
        }
    }

    func check(_ source: Populated, path: String, state: String, context: String) {
        func attempt(_ what: String, _ body: () throws -> Void) {
            do { try body() } catch { #expect(error is VaultError, "\(context): \(what) threw \(type(of: error))") }
        }
        attempt("CLI") {
            let vault = try Vault.unlock(path: path, passphrase: try testPassphrase(), checkpoints: AuditCheckpointStore(directory: state))
            attempt("rematerialise") { try vault.profile.set("email", value: "new@example.org") }
            attempt("list") {
                for grant in try vault.grants.list() {
                    let state = grant.state(at: Date())
                    if grant.id == source.grantOfToken["revoked"] { #expect(state == .revoked, "\(context): revived") }
                    // Even a lowered use_count: the CLI counts from the highest it has sealed.
                    if grant.id == source.grantOfToken["limited"] { #expect(state != .active, "\(context): use limit raised") }
                }
            }
            attempt("audit") { _ = try vault.audit.entries() }
            attempt("verify") { _ = try vault.audit.verify() }
        }
        attempt("redeem") {
            let redeemer = try Redeemer(database: try VaultDatabase.open(path: path))
            for (name, token) in source.tokens {
                attempt("redeem \(name)") {
                    let outcome = try redeem(redeemer, token)
                    guard case .share(let body, _, _) = outcome else { return }
                    #expect(name != "revoked" && name != "limited", "\(context): the \(name) grant served again")
                    // What the vendor opens; one it cannot open it refuses.
                    let signed: SignedShare?
                    if name == "bolt" {
                        signed = try? JSONDecoder().decode(SealedShare.self, from: Data(body)).open(with: source.bolt)
                    } else {
                        signed = try? JSONDecoder().decode(SignedShare.self, from: Data(body))
                    }
                    // What a vendor checks: the vault's signature and the grant it holds.
                    guard let document = try? signed?.verified(expectedSigner: source.signer).document,
                        document.grantID == source.grantOfToken[name], let allowed = source.allowed[document.grantID]
                    else { return }
                    let purchases = Set((document.data.purchases ?? []).map(\.id))
                    let cases = Set((document.data.cases ?? []).map(\.id))
                    let profile = Set((document.data.profile ?? [:]).keys)
                    #expect(purchases.isSubset(of: allowed.purchases), "\(context): \(name) got purchases \(purchases)")
                    #expect(cases.isSubset(of: allowed.cases), "\(context): \(name) got cases \(cases)")
                    #expect(profile.isSubset(of: allowed.profile), "\(context): \(name) got profile \(profile)")
                }
            }
        }
    }
}
