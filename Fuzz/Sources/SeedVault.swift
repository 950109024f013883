// The seed for the `header-unlocked` target: a small vault with a record of every kind, a
// known passphrase and the cheapest key derivation, so each fuzzed variant unlocks in
// microseconds and the code after the unlock gets the fuzzer's time.
import Foundation
import VaultCore
import VaultCrypto

enum SeedVault {
    /// The passphrase of every seed vault; `header-unlocked` unlocks with it.
    static let passphrase = "fuzz-seed"

    static func passphraseKey() throws -> SecretKey {
        var bytes = Array(passphrase.utf8)
        return try SecretKey(wiping: &bytes)
    }

    /// Writes a seed vault to `path` (which must not exist yet).
    static func make(at path: String) throws {
        let vault = try Vault.create(path: path, passphrase: try passphraseKey(), kdf: .minimumForTests)
        _ = try vault.profile.set("email", value: "jo@example.org")
        _ = try vault.profile.set("address.shipping", value: "12 Quokka Lane, Springfield")
        try vault.vendors.add(name: "Acme", site: "https://acme.example", contact: "help@acme.example")
        let vendorKey = try BoxKeyPair.generate()
        try vault.vendors.add(name: "Bolt", publicKey: VendorKeyText.encodePublic(vendorKey.publicKey))
        let date = CalendarDate(year: 2026, month: 1, day: 2)
        let (added, _) = try vault.purchases.add([
            NewPurchase(vendorName: "Acme", item: "Tent", date: date, price: Money(minorUnits: 30000, currency: "EUR"), orderNumber: "O-1"),
            NewPurchase(vendorName: "Bolt", item: "Scarf", date: date, giftFor: "Sam"),
        ])
        if let first = added.first {
            _ = try vault.purchases.annotate(id: first.id, AnnotationEdit(rating: 4, note: "sturdy", tags: ["camping"]))
        }
        let opened = try vault.cases.open(NewCase(vendorName: "Acme", subject: "Zip broke", channel: .chat, priority: .high))
        _ = try vault.cases.update(id: opened.id, .log("sent photos", channel: .email))
        _ = try vault.cases.update(id: opened.id, .escalate)
        let bearer = try vault.grants.create(
            GrantRequest(
                vendorName: "Acme", scopes: [.profile, .purchasesOwn, .casesOwn],
                purpose: .support, expiresAt: nil, maxUses: 5))
        _ = try vault.grants.create(
            GrantRequest(
                vendorName: "Bolt", scopes: [.profileField("email"), .purchasesAll, .purchaseAnnotations],
                purpose: .delivery, expiresAt: Date().addingTimeInterval(86_400)))
        let revoked = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.vendor], purpose: .marketing, expiresAt: nil))
        _ = try vault.grants.revoke(id: revoked.grant.id)
        // History entries as the server writes them: a redemption and a denial.
        let redeemer = try Redeemer(database: vault.database)
        let token = bearer.token.encoded()
        _ = try redeemer.redeem(RedemptionRequest(token: Substring(token), client: "127.0.0.1", userAgent: "seed", held: nil))
        _ = try? redeemer.redeem(RedemptionRequest(token: "vrm_not-a-token", client: "127.0.0.1", userAgent: "seed", held: nil))
        vault.database.checkpoint()
    }
}
