import Foundation
import Testing
@testable import VaultCore
import VaultTestSupport

@Suite struct ExportAndReportTests {
    let dir = TemporaryDirectory()
    let vault: Vault

    init() throws {
        vault = try makeVault(in: dir)
        try vault.profile.set("name", value: "Jo Example")
        try vault.profile.set("email", value: "jo@example.org")
        try vault.profile.set("address.shipping", value: "1 Main St; Flat 2")
        try vault.vendors.add(name: "Acme", site: "https://acme.example")
        try vault.vendors.add(name: "Bolt")
        try vault.vendors.edit(named: "Acme", VendorEdit(notes: "good", stage: .commitment))
        _ = try vault.purchases.add([
            NewPurchase(vendorName: "Acme", item: "Tent", date: CalendarDate("2026-08-01"), price: try Money.parse("300", currency: "EUR"), orderNumber: "A-1"),
            NewPurchase(vendorName: "Acme", item: "Stove", date: CalendarDate("2026-09-15"), price: try Money.parse("45.50", currency: "EUR")),
            NewPurchase(vendorName: "Acme", item: "Mug", date: CalendarDate("2026-09-20"), price: try Money.parse("12", currency: "USD"), giftFor: "Sam"),
            NewPurchase(vendorName: "Bolt", item: "Helmet", date: CalendarDate("2026-09-01"), price: try Money.parse("59", currency: "USD")),
        ])
        let stove = try #require(try vault.purchases.list().first { $0.item == "Stove" })
        try vault.purchases.annotate(id: stove.id, AnnotationEdit(returned: true))
        let c = try vault.cases.open(NewCase(vendorName: "Acme", subject: "Broken pole"))
        try vault.cases.update(id: c.id, .resolve(note: "fixed"))
    }

    @Test func exportImportAllExportIsIdentical() throws {
        let first = try vault.portability.export(.json)
        let copy = try Vault.create(path: dir.file("copy.db"), passphrase: try testPassphrase(), kdf: .minimumForTests)
        let counts = try copy.portability.importAll(first)
        #expect(counts.profile == 3 && counts.vendors == 2 && counts.purchases == 4 && counts.cases == 1)
        #expect(try copy.portability.export(.json) == first)
        #expect(throws: VaultError.notEmpty) { try copy.portability.importAll(first) }
        #expect(throws: VaultError.self) { try copy.portability.importAll(Data("{\"format\":\"nope\"}".utf8)) }
    }

    @Test func importAllRejectsRecordsTheCLIWouldRefuse() throws {
        let good = try #require(try JSONSerialization.jsonObject(with: try vault.portability.export(.json)) as? [String: Any])
        func attempt(_ mutate: (inout [String: Any]) -> Void) throws -> Bool {
            var doc = good
            mutate(&doc)
            let target = TemporaryDirectory()
            let fresh = try makeVault(in: target)
            do {
                _ = try fresh.portability.importAll(try JSONSerialization.data(withJSONObject: doc))
                return true
            } catch is VaultError {
                #expect(try fresh.purchases.list().isEmpty && fresh.vendors.all().isEmpty && fresh.profile.all().isEmpty)
                return false
            }
        }
        func purchases(_ doc: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
            var list = doc["purchases"] as? [[String: Any]] ?? []
            change(&list[0])
            doc["purchases"] = list
        }
        #expect(try attempt { _ in } == true)
        #expect(try attempt { purchases(&$0) { $0["price"] = ["minorUnits": -500, "currency": "EUR"] } } == false)
        #expect(try attempt { purchases(&$0) { $0["price"] = ["minorUnits": 5, "currency": "XYZ"] } } == false)
        #expect(try attempt { purchases(&$0) { $0["quantity"] = 0 } } == false)
        #expect(try attempt { purchases(&$0) { $0["item"] = "" } } == false)
        #expect(
            try attempt { doc in
                var list = doc["purchases"] as? [[String: Any]] ?? []
                list.append(list[0])
                doc["purchases"] = list
            } == false)
        #expect(
            try attempt { doc in
                var list = doc["vendors"] as? [[String: Any]] ?? []
                list[1]["name"] = list[0]["name"]
                doc["vendors"] = list
            } == false)
    }

    @Test func exportOrderSurvivesCasesOpenedWithinOneSecond() throws {
        for i in 0..<6 { try vault.cases.open(NewCase(vendorName: "Bolt", subject: "burst \(i)")) }
        let first = try vault.portability.export(.json)
        let copy = try Vault.create(path: dir.file("burst.db"), passphrase: try testPassphrase(), kdf: .minimumForTests)
        _ = try copy.portability.importAll(first)
        #expect(try copy.portability.export(.json) == first)
    }

    @Test func otherFormatsCarryTheData() throws {
        let vcard = String(decoding: try vault.portability.export(.vcard), as: UTF8.self)
        #expect(vcard.hasPrefix("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jo Example\r\n"))
        #expect(vcard.contains("EMAIL:jo@example.org"))
        #expect(vcard.contains("ADR;TYPE=home;LABEL=\"1 Main St; Flat 2\":;;1 Main St\\; Flat 2;;;;"))
        let csv = String(decoding: try vault.portability.export(.csv), as: UTF8.self)
        #expect(try CSV.parse(csv).count == 5)
        let ld = try #require(try JSONSerialization.jsonObject(with: try vault.portability.export(.jsonld)) as? [String: Any])
        let graph = try #require(ld["@graph"] as? [[String: Any]])
        #expect(graph.first?["@type"] as? String == "Person")
        #expect(graph.filter { $0["@type"] as? String == "Order" }.count == 4)
    }

    @Test func spendingIsPerCurrencyAndLeavesReturnsOut() throws {
        let rows = try vault.reports.spending(by: .vendor)
        #expect(
            rows == [
                SpendingRow(group: "Acme", currency: "EUR", total: "300.00", purchases: 1),
                SpendingRow(group: "Acme", currency: "USD", total: "12.00", purchases: 1),
                SpendingRow(group: "Bolt", currency: "USD", total: "59.00", purchases: 1),
            ])
        #expect(try vault.reports.spending(by: .month).map(\.group) == ["2026-08", "2026-09"])
        #expect(try vault.reports.spending(by: .month, since: CalendarDate("2026-09-01")).map(\.total) == ["71.00"])
    }

    @Test func scorecardsCountPurchasesReturnsAndCases() throws {
        let acme = try #require(try vault.reports.vendorScorecards().first { $0.vendor == "Acme" })
        #expect(acme.stage == "commitment" && acme.purchases == 3 && acme.returns == 1)
        #expect(acme.spend == ["300.00 EUR", "12.00 USD"])
        #expect(acme.openCases == 0 && acme.resolvedCases == 1 && acme.medianDaysToResolve == 0)
    }

    @Test func aTamperedCaseFailsTheScorecardsInsteadOfLeavingItOut() throws {
        // The cases are decoded on another thread while the purchases are tallied; its failure
        // must reach the caller.
        let id = try #require(try RawDatabase.open(dir.file("vault.db")).strings("SELECT id FROM cases").first)
        try RawDatabase.open(dir.file("vault.db")).execute("UPDATE cases SET sealed = zeroblob(80) WHERE id = '\(id)'")
        #expect(throws: VaultError.tampered(table: "cases", id: id)) { try vault.reports.vendorScorecards() }
    }

    /// Totals that do not fit are an error, never a wrapped number: within one worker's share
    /// of the purchases, and when the shares are added (more than 4096 purchases, the big two
    /// in different shares).
    @Test(arguments: [0, 5000]) func aTotalTooLargeToAddUpFailsTheReports(_ between: Int) throws {
        let big = NewPurchase(vendorName: "Acme", item: "Big", price: Money(minorUnits: Int64.max / 2 + 1, currency: "EUR"))
        let filler = (0..<between).map { NewPurchase(vendorName: "Bolt", item: "Item \($0)", price: Money(minorUnits: 1, currency: "EUR")) }
        _ = try vault.purchases.add([big] + filler + [big])
        #expect(throws: VaultError.invalidInput("the EUR total is too large to add up")) { try vault.reports.vendorScorecards() }
        #expect(throws: VaultError.invalidInput("the EUR total is too large to add up")) { try vault.reports.spending(by: .vendor) }
    }

    @Test func reportsAddUpTheSameWhenCoresEachTallyAShare() throws {
        // More purchases than the parallel threshold (4096): each core tallies its own share
        // and the shares are added; the result must equal one serial pass over the purchases.
        let extra = (0..<5000).map { (i: Int) -> NewPurchase in
            let vendor = i % 3 == 0 ? "Acme" : "Bolt"
            let price: Money? = i % 7 == 0 ? nil : Money(minorUnits: Int64(i) * 13, currency: i % 2 == 0 ? "EUR" : "USD")
            return NewPurchase(vendorName: vendor, item: "Item \(i)", price: price)
        }
        let added = try vault.purchases.add(extra).added
        for purchase in added.prefix(40) { _ = try vault.purchases.annotate(id: purchase.id, AnnotationEdit(returned: true)) }
        let names = Dictionary(uniqueKeysWithValues: try vault.vendors.all().map { ($0.id, $0.name) })
        var count: [String: Int] = [:], returns: [String: Int] = [:]
        var spend: [String: [String: (Int64, Int)]] = [:]
        for p in try vault.purchases.list() {
            let name = names[p.vendorID] ?? "(removed)"
            count[name, default: 0] += 1
            if p.annotations.returned { returns[name, default: 0] += 1; continue }
            guard let price = p.price else { continue }
            let current = spend[name, default: [:]][price.currency] ?? (0, 0)
            spend[name, default: [:]][price.currency] = (current.0 + price.minorUnits, current.1 + 1)
        }
        for card in try vault.reports.vendorScorecards() {
            #expect(card.purchases == count[card.vendor, default: 0])
            #expect(card.returns == returns[card.vendor, default: 0])
            #expect(card.spend == (spend[card.vendor] ?? [:]).sorted { $0.key < $1.key }.map { Money(minorUnits: $0.value.0, currency: $0.key).formatted })
        }
        let expected = spend.flatMap { name, byCurrency in
            byCurrency.map { SpendingRow(group: name, currency: $0.key, total: Money(minorUnits: $0.value.0, currency: $0.key).amount, purchases: $0.value.1) }
        }
        #expect(try vault.reports.spending(by: .vendor) == expected.sorted { ($0.group.lowercased(), $0.currency) < ($1.group.lowercased(), $1.currency) })
        let total = try vault.purchases.list().count
        #expect(try vault.reports.vendorScorecards().map(\.purchases).reduce(0, +) == total)
    }

    @Test func exposureMatchesTheActiveGrants() throws {
        let a = try vault.grants.create(
            GrantRequest(vendorName: "Acme", scopes: [.profilePrefix("address"), .purchasesOwn, .casesOwn], purpose: .support, expiresAt: nil, maxUses: 3))
        let b = try vault.grants.create(GrantRequest(vendorName: "Bolt", scopes: [.profileField("email")], purpose: .warranty, expiresAt: nil))
        try vault.grants.revoke(id: b.grant.id)
        let rows = try vault.reports.exposure()
        #expect(rows.map(\.grantID) == [a.grant.id])
        #expect(rows.first?.readable == ["profile.address.shipping", "purchases from Acme (3)", "cases with Acme (1)"])
        #expect(rows.first?.usesLeft == 3)
    }
}
