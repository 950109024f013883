import Testing
import VaultCore
import VaultTestSupport

/// scope × profile field → whether the share holds it.
@Suite struct ShareContentTests {
    static let profile = [
        ("name", "Jo"), ("email", "jo@example.org"), ("address.shipping", "1 Main St"),
        ("address.billing", "PO Box 9"), ("size.shoe", "42"), ("addressbook", "not an address"),
    ]

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
        let issued = try vault.grants.create(
            GrantRequest(vendorName: "Acme", scopes: [try Scope.parse(scope)], purpose: .delivery, expiresAt: nil, allowUnsetFields: true))
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
