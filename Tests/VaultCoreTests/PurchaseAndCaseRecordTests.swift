import Foundation
import Testing
import VaultCore
import VaultTestSupport

@Suite struct PurchaseAndCaseRecordTests {
    let dir = TemporaryDirectory()
    let vault: Vault
    let redeemer: Redeemer

    init() throws {
        vault = try makeVault(in: dir)
        try vault.vendors.add(name: "Acme")
        try vault.vendors.add(name: "Bolt")
        redeemer = try Redeemer(database: vault.database)
    }

    @discardableResult
    func add(
        _ vendor: String, _ item: String, price: String? = "10.00", currency: String = "EUR", order: String? = nil, gift: String? = nil,
        date: String = "2026-10-01"
    ) throws -> Purchase {
        let purchase = NewPurchase(
            vendorName: vendor, item: item, date: CalendarDate(date), price: try price.map { try Money.parse($0, currency: currency) },
            orderNumber: order, giftFor: gift)
        return try #require(try vault.purchases.add([purchase]).added.first)
    }

    func share(_ scopes: [Scope], vendor: String = "Acme") throws -> (IssuedGrant, () throws -> ShareDocument) {
        let issued = try vault.grants.create(GrantRequest(vendorName: vendor, scopes: scopes, purpose: .support, expiresAt: nil))
        return (issued, { try vendorOpens(try redeem(self.redeemer, issued.token)) })
    }

    @Test func purchasesOwnSharesOnlyTheGranteesPurchasesWithGiftsMarkedAndNoAnnotations() throws {
        let shoes = try add("Acme", "Trail shoes", order: "A-1")
        try add("Acme", "Socks", gift: "my nephew")
        try add("Bolt", "Helmet")
        try vault.purchases.annotate(
            id: shoes.id, AnnotationEdit(rating: 5, returned: true, warrantyUntil: CalendarDate("2028-01-01"), note: "great grip", tags: ["running"]))
        let (_, fetch) = try share([.purchasesOwn])
        let purchases = try #require(try fetch().data.purchases)
        #expect(purchases.map(\.item).sorted() == ["Socks", "Trail shoes"])
        #expect(purchases.first { $0.item == "Socks" }?.gift == true)
        #expect(purchases.first { $0.item == "Trail shoes" }?.gift == false)
        for p in purchases {
            #expect(p.rating == nil && p.returned == nil && p.notes == nil && p.tags == nil && p.warrantyUntil == nil)
        }
        let body = try JSONEncoder().encode(try fetch())
        #expect(String(decoding: body, as: UTF8.self).contains("nephew") == false)
        #expect(String(decoding: body, as: UTF8.self).contains("A-1") == false)
    }

    @Test func purchaseAnnotationsAddTheCustomersOwnNotes() throws {
        let shoes = try add("Acme", "Trail shoes")
        try vault.purchases.annotate(id: shoes.id, AnnotationEdit(rating: 4, note: "great grip", tags: ["running"]))
        let (_, fetch) = try share([.purchasesOwn, .purchaseAnnotations])
        let shared = try #require(try fetch().data.purchases?.first)
        #expect(shared.rating == 4 && shared.notes == "great grip" && shared.tags == ["running"] && shared.returned == false)
        #expect(throws: VaultError.self) {
            try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.purchaseAnnotations], purpose: .support, expiresAt: nil))
        }
    }

    @Test func purchasesAllSharesEveryVendorsPurchases() throws {
        try add("Acme", "Tent")
        try add("Bolt", "Helmet")
        let (_, fetch) = try share([.purchasesAll])
        #expect(try fetch().data.purchases?.map(\.vendor).sorted() == ["Acme", "Bolt"])
    }

    @Test func addingAnnotatingAndRemovingRematerialiseOnlyAffectedGrants() throws {
        let (own, _) = try share([.purchasesOwn])
        let (profileOnly, _) = try share([.profile])
        let tent = try add("Acme", "Tent")
        #expect(try vault.grants.grant(id: own.grant.id).shareVersion == 2)
        try add("Bolt", "Helmet")
        #expect(try vault.grants.grant(id: own.grant.id).shareVersion == 2, "a Bolt purchase must not touch an Acme purchases:own share")
        // An annotation the grant does not share (no purchases.annotations): same data, same version.
        try vault.purchases.annotate(id: tent.id, AnnotationEdit(returned: true))
        #expect(try vault.grants.grant(id: own.grant.id).shareVersion == 2)
        try vault.purchases.remove(id: tent.id)
        #expect(try vault.grants.grant(id: own.grant.id).shareVersion == 3)
        #expect(try vault.grants.grant(id: profileOnly.grant.id).shareVersion == 1)
    }

    @Test func caseLifecycleAndSharing() throws {
        let c = try vault.cases.open(
            NewCase(
                vendorName: "Acme", subject: "Sole came off", channel: .email, priority: .high,
                followUp: CalendarDate("2026-01-01"), reference: "ACME-1"))
        #expect(c.isOverdue(today: CalendarDate("2026-06-01") ?? CalendarDate(Date())))
        try vault.cases.update(id: c.id, .log("called them", channel: .phone))
        try vault.cases.update(id: c.id, .escalate)
        #expect(throws: VaultError.self) { try vault.cases.update(id: c.id, .escalate) }
        try vault.cases.update(id: c.id, .resolve(note: "replaced"))
        #expect(throws: VaultError.conflict("case \(c.id) is already resolved")) { try vault.cases.update(id: c.id, .resolve(note: nil)) }
        #expect(throws: VaultError.notFound(kind: "case", id: "c_nope")) { try vault.cases.update(id: "c_nope", .reopen) }
        let reopened = try vault.cases.update(id: c.id, .reopen)
        #expect(reopened.status == .open)
        #expect(reopened.timeline.map(\.kind) == [.opened, .note, .escalated, .resolved, .reopened])
        let closed = try vault.cases.update(id: c.id, .close(note: "gave up"))
        #expect(closed.status == .closed)
        #expect(throws: VaultError.conflict("case \(c.id) is already closed")) { try vault.cases.update(id: c.id, .close(note: nil)) }
        #expect(try vault.cases.update(id: c.id, .reopen).status == .open)
        try vault.cases.open(NewCase(vendorName: "Bolt", subject: "Other vendor's case"))
        let (_, fetch) = try share([.casesOwn])
        let cases = try #require(try fetch().data.cases)
        #expect(cases.map(\.subject) == ["Sole came off"])
        #expect(cases.first?.timeline.count == 7)
        #expect(try fetch().data.purchases == nil)
    }

    @Test func aVendorWithRecordsCannotBeRemovedUntilTheyAreGone() throws {
        let helmet = try add("Bolt", "Helmet")
        let c = try vault.cases.open(NewCase(vendorName: "Bolt", subject: "Strap"))
        #expect(throws: VaultError.self) { try vault.vendors.remove(named: "Bolt") }
        #expect(try vault.vendors.all().count == 2)
        try vault.purchases.remove(id: helmet.id)
        try vault.cases.remove(id: c.id)
        #expect(try vault.vendors.remove(named: "Bolt") == 0)
        #expect(try vault.vendors.all().map(\.name) == ["Acme"])
    }

    @Test func anImportRebuildsAPurchasesAllShareOnce() throws {
        let (all, _) = try share([.purchasesAll])
        _ = try vault.purchases.add([NewPurchase(vendorName: "Acme", item: "A"), NewPurchase(vendorName: "Bolt", item: "B")])
        #expect(try vault.grants.grant(id: all.grant.id).shareVersion == 2)
    }

    @Test func recordTextNeverReachesTheFileInClear() throws {
        let p = try add("Acme", "Xylophone deluxe", order: "ORD-77731", gift: "Aunt Quilla")
        try vault.purchases.annotate(id: p.id, AnnotationEdit(note: "zebra-striped case", tags: ["kumquat"]))
        let c = try vault.cases.open(NewCase(vendorName: "Acme", subject: "Wobbly marimba", reference: "TCK-99812"))
        try vault.cases.update(id: c.id, .log("spoke to Ferdinanda", channel: .chat))
        for needle in ["Xylophone", "ORD-77731", "Quilla", "zebra-striped", "kumquat", "Wobbly", "TCK-99812", "Ferdinanda", "EUR"] {
            #expect(!rawVaultContains(dir.file("vault.db"), needle), "\(needle) is in the vault file")
        }
    }
}
