import Foundation
import VaultCore
import VaultTestSupport

/// What the grant and redemption suites start from: a vault holding an email address and a
/// shipping address, one vendor (Acme), and a clock the test moves by hand.
protocol GrantFixture {
    var dir: TemporaryDirectory { get }
    var clock: TestClock { get }
    var vault: Vault { get }
}

/// The fixture's vault, created in `dir` with `clock`.
func makeGrantFixtureVault(in dir: TemporaryDirectory, clock: TestClock) throws -> Vault {
    let vault = try makeVault(in: dir, clock: clock.closure)
    try vault.profile.set("email", value: "jo@example.org")
    try vault.profile.set("address.shipping", value: "1 Main St")
    try vault.vendors.add(name: "Acme")
    return vault
}

extension GrantFixture {
    /// A redeemer on the fixture's vault and clock, as `vrm serve` would hold.
    func redeemer() throws -> Redeemer { try Redeemer(database: vault.database, clock: clock.closure) }

    /// Issues a grant to `vendor` (Acme unless told), expiring `expires` seconds from the
    /// fixture clock's now.
    func grant(_ scopes: [Scope] = [.profileField("email")], expires: TimeInterval? = 3600, maxUses: Int? = nil, vendor: String = "Acme") throws -> IssuedGrant
    {
        try vault.grants.create(
            GrantRequest(
                vendorName: vendor, scopes: scopes, purpose: .delivery,
                expiresAt: expires.map { clock.now.addingTimeInterval($0) }, maxUses: maxUses))
    }
}
