import Foundation
import Testing
@testable import VaultCore
import VaultCrypto
import VaultTestSupport

@Suite struct MoneyAndDateTests {
    @Test(arguments: [("12.34", "EUR", 1234), ("12.3", "eur", 1230), ("12", "USD", 1200), ("0", "GBP", 0), ("1500", "JPY", 1500),
                      ("1.234", "KWD", 1234), ("99999999.99", "EUR", 9_999_999_999)])
    func validAmountsAreExactMinorUnits(_ amount: String, _ currency: String, _ minor: Int64) throws {
        let money = try Money.parse(amount, currency: currency)
        #expect(money.minorUnits == minor)
        #expect(money.currency == currency.uppercased())
    }

    @Test(arguments: [("-1", "EUR"), ("1.234", "EUR"), ("1.5", "JPY"), ("abc", "EUR"), ("", "EUR"), ("1,50", "EUR"), ("1e3", "EUR"),
                      ("12.", "EUR"), (".5", "EUR"), ("10", "XYZ"), ("10", "EURO"), ("+3", "EUR"), ("١٢", "EUR")])
    func malformedAmountsAndUnknownCurrenciesAreRejected(_ amount: String, _ currency: String) {
        #expect(throws: VaultError.self) { try Money.parse(amount, currency: currency) }
    }

    @Test func amountsPrintWithTheCurrencysDigits() throws {
        #expect(try Money.parse("7.5", currency: "EUR").formatted == "7.50 EUR")
        #expect(try Money.parse("1500", currency: "JPY").formatted == "1500 JPY")
        #expect(try Money.parse("0.005", currency: "BHD").formatted == "0.005 BHD")
    }

    @Test(arguments: ["2026-11-23", "2024-02-29", "1999-12-31"])
    func realDaysParse(_ text: String) { #expect(CalendarDate(text)?.description == text) }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-00-10", "26-11-23", "2026/11/23", "yesterday", "", "2026-1-1", "2026-+1-05", "+026-01-05"])
    func invalidDatesAreRejected(_ text: String) { #expect(CalendarDate(text) == nil) }
}

@Suite struct CSVTests {
    @Test func quotedFieldsEmbeddedNewlinesAndLineNumbers() throws {
        let text = "\u{FEFF}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"multi\nline\",z\n"
        let records = try CSV.parse(text)
        #expect(records.map(\.fields) == [["a", "b"], ["x, y", "say \"hi\""], ["multi\nline", "z"]])
        #expect(records.map(\.line) == [1, 2, 4])
    }

    @Test func strayAndUnterminatedQuotesNameTheLine() {
        #expect(throws: CSV.ParseError.strayQuote(line: 2)) { try CSV.parse("a\nb\"c\n") }
        #expect(throws: CSV.ParseError.unterminatedQuote(line: 2)) { try CSV.parse("a\n\"open\n") }
    }

    @Test func writtenLinesParseBack() throws {
        let fields = ["plain", "with, comma", "with \"quote\"", "two\nlines"]
        #expect(try CSV.parse(CSV.line(fields) + "\n").first?.fields == fields)
    }
}

@Suite struct PurchaseAndCaseTests {
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
    func add(_ vendor: String, _ item: String, price: String? = "10.00", currency: String = "EUR", order: String? = nil, gift: String? = nil,
             date: String = "2026-10-01") throws -> Purchase {
        let purchase = NewPurchase(vendorName: vendor, item: item, date: CalendarDate(date), price: try price.map { try Money.parse($0, currency: currency) },
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
        try vault.purchases.annotate(id: shoes.id, AnnotationEdit(rating: 5, returned: true, warrantyUntil: CalendarDate("2028-01-01"), note: "great grip", tags: ["running"]))
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
        try vault.purchases.annotate(id: tent.id, AnnotationEdit(returned: true))
        #expect(try vault.grants.grant(id: own.grant.id).shareVersion == 3)
        try vault.purchases.remove(id: tent.id)
        #expect(try vault.grants.grant(id: own.grant.id).shareVersion == 4)
        #expect(try vault.grants.grant(id: profileOnly.grant.id).shareVersion == 1)
    }

    @Test func caseLifecycleAndSharing() throws {
        let c = try vault.cases.open(NewCase(vendorName: "Acme", subject: "Sole came off", channel: .email, priority: .high,
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

@Suite struct ImportTests {
    let dir = TemporaryDirectory()
    let vault: Vault

    init() throws {
        vault = try makeVault(in: dir)
        try vault.vendors.add(name: "Acme")
    }

    func count() throws -> Int { try vault.purchases.list().count }

    @Test func aGoodFileImportsOnceAndTwiceAddsNothing() throws {
        let csv = "vendor,item,date,price,currency,order,quantity,gift_for\nAcme,Tent,2026-08-01,300.00,EUR,A-9,1,\nacme,\"Stove, small\",2026-08-02,45.5,EUR,A-10,2,Sam\n"
        let rows = try PurchaseImport.parse(csv, format: .csv, defaultVendor: nil)
        #expect(try vault.portability.importPurchases(rows, dryRun: true) == ImportSummary(added: 2, duplicates: 0, dryRun: true))
        #expect(try count() == 0)
        #expect(try vault.portability.importPurchases(rows, dryRun: false) == ImportSummary(added: 2, duplicates: 0, dryRun: false))
        #expect(try vault.portability.importPurchases(rows, dryRun: false) == ImportSummary(added: 0, duplicates: 2, dryRun: false))
        let stove = try #require(try vault.purchases.list().first { $0.item == "Stove, small" })
        #expect(stove.price?.minorUnits == 4550 && stove.quantity == 2 && stove.giftFor == "Sam")
    }

    @Test(arguments: [
        ("vendor,item\nAcme,Tent\n", "line 1: missing column \"date\""),
        ("item,date\nTent,2026-01-01\n", "missing column \"vendor\""),
        ("vendor,item,date,colour\nAcme,Tent,2026-01-01,red\n", "unknown column \"colour\""),
        ("vendor,item,date\nAcme,Tent,2026-01-01\nAcme,Stove,2026-13-01\n", "line 3: invalid date"),
        ("vendor,item,date,price,currency\nAcme,Tent,2026-01-01,-5,EUR\n", "line 2: invalid price"),
        ("vendor,item,date,price,currency\nAcme,Tent,2026-01-01,5,ZZZ\n", "line 2: unknown currency code"),
        ("vendor,item,date,price\nAcme,Tent,2026-01-01,5\n", "line 2: a price needs a currency"),
        ("vendor,item,date\nAcme,Tent,2026-01-01\nAcme,Stove\n", "line 3: expected 3 fields"),
        ("vendor,item,date,quantity\nAcme,Tent,2026-01-01,0\n", "line 2: invalid quantity"),
        ("vendor,item,date\nAcme,\"Tent,2026-01-01\n", "line 2: a quoted field is never closed"),
        ("\n\nvendor,item\nAcme,Tent\n", "line 3: missing column \"date\""),
        ("vendor,item,date,item\nAcme,Tent,2026-01-01,x\n", "column \"item\" appears twice"),
        ("", "the file is empty: expected a header line with vendor, item, date"),
    ])
    func aBadFileIsRejectedWholeNamingTheLine(csv: String, message: String) throws {
        #expect {
            let rows = try PurchaseImport.parse(csv, format: .csv, defaultVendor: nil)
            _ = try vault.portability.importPurchases(rows, dryRun: false)
        } throws: { error in
            "\(error)".contains(message)
        }
        #expect(try count() == 0)
    }

    @Test func anUnknownVendorRejectsTheWholeFile() throws {
        let rows = try PurchaseImport.parse("vendor,item,date\nAcme,Tent,2026-01-01\nNobody,Stove,2026-01-02\n", format: .csv, defaultVendor: nil)
        #expect { try vault.portability.importPurchases(rows, dryRun: false) } throws: { "\($0)".contains("line 3: unknown vendor") }
        #expect(try count() == 0)
    }

    @Test func jsonImportsWithEntryNumbersAndADefaultVendor() throws {
        let json = #"[{"item": "Tent", "date": "2026-08-01", "price": "300", "currency": "EUR", "order": "A-9", "quantity": 2}]"#
        let rows = try PurchaseImport.parse(json, format: .json, defaultVendor: "Acme")
        #expect(try vault.portability.importPurchases(rows, dryRun: false).added == 1)
        #expect { try PurchaseImport.parse(#"[{"item": "x", "date": "2026-01-01", "price": 3.5, "currency": "EUR"}]"#, format: .json, defaultVendor: "Acme") }
            throws: { "\($0)".contains("entry 1: price must be a string") }
        #expect { try PurchaseImport.parse(#"{"item": "x"}"#, format: .json, defaultVendor: "Acme") } throws: { "\($0)".contains("array of objects") }
        #expect { try PurchaseImport.parse(#"[{"item": "x", "date": "2026-01-01", "quantity": true}]"#, format: .json, defaultVendor: "Acme") }
            throws: { "\($0)".contains("entry 1: quantity must be a string or a whole number") }
        #expect { try PurchaseImport.parse(#"[{"item": "x", "date": "2026-01-01", "quantity": "+5"}]"#, format: .json, defaultVendor: "Acme") }
            throws: { "\($0)".contains("invalid quantity") }
        let padded = try PurchaseImport.parse(#"[{"item": " Tent ", "date": " 2026-01-01 ", "quantity": 2}]"#, format: .json, defaultVendor: "Acme")
        #expect(padded.first?.purchase.item == "Tent" && padded.first?.purchase.quantity == 2)
    }
}

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
        #expect(throws: VaultError.self) { try copy.portability.importAll(first) }
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
        #expect(try attempt { doc in
            var list = doc["purchases"] as? [[String: Any]] ?? []
            list.append(list[0])
            doc["purchases"] = list
        } == false)
        #expect(try attempt { doc in
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
        #expect(rows == [
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
        let a = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profilePrefix("address"), .purchasesOwn, .casesOwn], purpose: .support, expiresAt: nil, maxUses: 3))
        let b = try vault.grants.create(GrantRequest(vendorName: "Bolt", scopes: [.profileField("email")], purpose: .warranty, expiresAt: nil))
        try vault.grants.revoke(id: b.grant.id)
        let rows = try vault.reports.exposure()
        #expect(rows.map(\.grantID) == [a.grant.id])
        #expect(rows.first?.readable == ["profile.address.shipping", "purchases from Acme (3)", "cases with Acme (1)"])
        #expect(rows.first?.usesLeft == 3)
    }
}

@Suite struct BinaryRecordTests {
    static func purchase(_ i: Int) -> Purchase {
        Purchase(
            id: "p_\(i)", vendorID: "v\(i % 7)", item: i % 3 == 0 ? "Ünïcödé item, \"quoted\" \(i)" : "Item \(i)",
            date: CalendarDate(String(format: "%04d-%02d-%02d", 2000 + i % 30, 1 + i % 12, 1 + i % 28)) ?? CalendarDate(Date()),
            price: i % 4 == 0 ? nil : Money(minorUnits: Int64(i * 137), currency: ["EUR", "JPY", "KWD"][i % 3]),
            orderNumber: i % 2 == 0 ? "O-\(i)" : nil, quantity: 1 + i % 9, giftFor: i % 5 == 0 ? "Sam" : nil,
            annotations: PurchaseAnnotations(rating: i % 6 == 0 ? nil : 1 + i % 5, returned: i % 2 == 1,
                                             warrantyUntil: i % 3 == 0 ? CalendarDate("2030-01-31") : nil,
                                             notes: i % 4 == 1 ? "note \(i)" : nil, tags: Array(["a", "b", "c"].prefix(i % 4))),
            createdAt: Date(timeIntervalSince1970: Double(1_700_000_000_000 + i) / 1000))
    }

    @Test func purchasesRoundTripThroughTheBinaryEncoding() throws {
        for i in 0..<200 {
            let p = Self.purchase(i)
            #expect(try VaultKeys.decodeRecord(Purchase.self, p.encodedRecord) == p)
        }
    }

    @Test func jsonRecordsWrittenBeforeTheBinaryEncodingStillRead() throws {
        let p = Self.purchase(3)
        #expect(try VaultKeys.decodeRecord(Purchase.self, Array(try JSONEncoder().encode(p))).item == p.item)
        let body = AuditBody(grantID: "gr_x", client: "127.0.0.1", reason: "revoked")
        #expect(try VaultKeys.decodeRecord(AuditBody.self, Array(try JSONEncoder().encode(body))) == body)
        #expect(try VaultKeys.decodeRecord(AuditBody.self, body.encodedRecord) == body)
    }

    @Test func truncatedOrPaddedBinaryRecordsAreRejected() {
        let bytes = Self.purchase(4).encodedRecord
        for cut in [1, 2, bytes.count / 2, bytes.count - 1] {
            #expect(throws: (any Error).self) { try VaultKeys.decodeRecord(Purchase.self, Array(bytes.prefix(cut))) }
        }
        #expect(throws: (any Error).self) { try VaultKeys.decodeRecord(Purchase.self, bytes + [0]) }
    }

    /// Text fields must be valid UTF-8 as stored: a record whose text does not decode exactly is
    /// rejected, never read with replacement characters.
    @Test func textThatIsNotUTF8IsRejected() throws {
        var p = Self.purchase(1)
        p.item = "abc"
        let bytes = p.encodedRecord
        let at = try #require((0...(bytes.count - 3)).first { Array(bytes[$0..<($0 + 3)]) == Array("abc".utf8) })
        for bad: [UInt8] in [[0xFF, 0x62, 0x63], [0x61, 0xC3, 0x63], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBD]] {
            var broken = bytes
            broken.replaceSubrange(at..<(at + 3), with: bad)
            if bad == [0xEF, 0xBF, 0xBD] {
                // A real U+FFFD in the text is valid UTF-8 and reads back as stored.
                #expect(try VaultKeys.decodeRecord(Purchase.self, broken).item == "\u{FFFD}")
            } else {
                #expect(throws: (any Error).self) { try VaultKeys.decodeRecord(Purchase.self, broken) }
            }
        }
        p.item = ""
        #expect(try VaultKeys.decodeRecord(Purchase.self, p.encodedRecord).item == "")
    }
}

@Suite struct SealedShareJSONTests {
    @Test func handBuiltJSONEqualsTheEncodersOutput() throws {
        let share = SealedShare(grantID: "gr_abcdefghijklmnop", version: 12, sealed: Array(repeating: 0xAB, count: 1100))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(share.jsonBytes == Array(try encoder.encode(share)))
    }
}
