import Foundation
import Testing
@testable import VaultCore
import VaultTestSupport

/// Reads `text` as one file named `name` with `options`.
func importBatch(_ text: String, name: String = "orders.csv", _ options: PurchaseImport.Options = PurchaseImport.Options()) throws -> PurchaseImport.Batch {
    try PurchaseImport.read([PurchaseImport.InputFile(name: name, data: Data(text.utf8))], options: options)
}

@Suite struct PurchaseImportTests {
    let dir = TemporaryDirectory()
    let vault: Vault

    init() throws {
        vault = try makeVault(in: dir)
        try vault.vendors.add(name: "Acme")
    }

    func count() throws -> Int { try vault.purchases.list().count }

    @Test func aGoodFileImportsOnceAndTwiceAddsNothing() throws {
        let csv =
            "vendor,item,date,price,currency,order,quantity,gift_for\nAcme,Tent,2026-08-01,300.00,EUR,A-9,1,\nacme,\"Stove, small\",2026-08-02,45.5,EUR,A-10,2,Sam\n"
        let batch = try importBatch(csv)
        let dry = try vault.portability.importPurchases(batch, dryRun: true)
        #expect(dry.dryRun && dry.added.count == 2 && dry.duplicates == 0 && dry.added.allSatisfy { $0.purchase.id.isEmpty })
        #expect(try count() == 0)
        let first = try vault.portability.importPurchases(batch, dryRun: false)
        #expect(first.added.count == 2 && first.added.allSatisfy { $0.purchase.id.hasPrefix("p_") && $0.vendor == "Acme" })
        let written = try logicalDump(dir.file("vault.db"))
        let second = try vault.portability.importPurchases(batch, dryRun: false)
        #expect(second.added.isEmpty && second.duplicates == 2 && !second.dryRun)
        #expect(try logicalDump(dir.file("vault.db")) == written, "an import that adds nothing writes nothing")
        let stove = try #require(try vault.purchases.list().first { $0.item == "Stove, small" })
        #expect(stove.price?.minorUnits == 4550 && stove.quantity == 2 && stove.giftFor == "Sam")
    }

    @Test(arguments: [
        ("vendor,item\nAcme,Tent\n", "line 1: missing column \"date\""),
        ("item,date\nTent,2026-01-01\n", "missing column \"vendor\""),
        ("vendor,item,date,colour\nAcme,Tent,2026-01-01,red\n", "unknown column \"colour\""),
        ("vendor,item,date\nAcme,Tent,2026-01-01\nAcme,Stove,2026-13-01\n", "line 3, column \"date\": invalid date \"2026-13-01\": there is no such day"),
        ("vendor,item,date,price,currency\nAcme,Tent,2026-01-01,-5,EUR\n", "line 2, column \"price\": invalid price"),
        ("vendor,item,date,price,currency\nAcme,Tent,2026-01-01,5,ZZZ\n", "line 2, column \"currency\": unknown currency code"),
        ("vendor,item,date,price\nAcme,Tent,2026-01-01,5\n", "line 2, column \"price\": a price needs a currency"),
        ("vendor,item,date\nAcme,Tent,2026-01-01\nAcme,Stove\n", "line 3: expected 3 fields"),
        ("vendor,item,date,quantity\nAcme,Tent,2026-01-01,0\n", "line 2, column \"quantity\": invalid quantity"),
        ("vendor,item,date\nAcme,\"Tent,2026-01-01\n", "line 2: a quoted field is never closed"),
        ("\n\nvendor,item\nAcme,Tent\n", "line 3: missing column \"date\""),
        ("vendor,item,date,item\nAcme,Tent,2026-01-01,x\n", "column \"item\" appears twice"),
        ("", "the file is empty: expected a header line with vendor, item, date"),
    ])
    func aBadFileIsRejectedWholeNamingTheLine(csv: String, message: String) throws {
        #expect {
            _ = try vault.portability.importPurchases(try importBatch(csv), dryRun: false)
        } throws: { error in
            "\(error)".contains(message)
        }
        #expect(try count() == 0)
    }

    @Test func everyBadRowIsReportedInOneRunInFileOrder() throws {
        var csv = "vendor,item,date,price,currency,order\nAcme,Tent,2026-01-01,5,EUR,A\n"
        csv += "Acme,Stove,31/02/24,5,EUR,B\n"  // line 3: date
        csv += "Acme,Mug,2026-01-02,1,50,EUR,X\n"  // line 4: field count
        csv += "Acme Outdor,Pan,2026-01-03,5,EUR,C\n"  // line 5: unknown vendor
        csv += "Acme,Cup,2026-01-04,1.999,EUR,D\n"  // line 6: decimals
        csv += "Acme,,2026-02-30,x,EUR,E\n"  // line 7: item, date and price
        let batch = try importBatch(csv)
        #expect(batch.rows.count == 2 && batch.problems.count == 6)
        let error = try #require(throws: VaultError.self) { try vault.portability.importPurchases(batch, dryRun: true) }
        let lines = "\(error)".split(separator: "\n").map(String.init)
        #expect(lines.first == "7 problems; nothing was imported:")
        #expect(
            Array(lines.dropFirst()) == [
                "  line 3, column \"date\": invalid date \"31/02/24\": use YYYY-MM-DD, or pass date_format with the file's layout (e.g. %m/%d/%y)",
                "  line 4: expected 6 fields, found 7",
                "  line 5, column \"vendor\": unknown vendor \"Acme Outdor\" (did you mean \"Acme\"?); add it with `vrm vendor add`, or pass create_vendors",
                "  line 6, column \"price\": invalid price \"1.999\": EUR has 2 decimal places",
                "  line 7, column \"item\": item is empty",
                "  line 7, column \"date\": invalid date \"2026-02-30\": there is no such day (YYYY-MM-DD, years 1900-2999)",
                "  line 7, column \"price\": invalid price \"x\": use a non-negative amount like 12.34",
            ])
        #expect(try count() == 0)
    }

    @Test func theListStopsAtFiftyAndSaysHowManyMore() throws {
        let csv = "vendor,item,date\n" + (0..<120).map { "Acme,Item \($0),yesterday\n" }.joined()
        let error = try #require(throws: VaultError.self) { try vault.portability.importPurchases(try importBatch(csv), dryRun: false) }
        let lines = "\(error)".split(separator: "\n")
        #expect(lines.count == 52 && lines.first == "120 problems; nothing was imported:" && lines.last == "  … and 70 more")
    }

    @Test func anUnknownVendorIsNamedOnceWithItsOtherRowsAndASuggestion() throws {
        try vault.vendors.add(name: "Camp Company")
        let csv = "vendor,item,date\nAcme,Tent,2026-01-01\n" + (2...7).map { "Camp Co,Stove \($0),2026-01-02\n" }.joined()
        let error = try #require(throws: VaultError.self) { try vault.portability.importPurchases(try importBatch(csv), dryRun: false) }
        #expect(
            "\(error)"
                == "line 3, column \"vendor\": unknown vendor \"Camp Co\" (also at line 4, line 5, line 6 and 2 more rows) (did you mean \"Camp Company\"?); "
                + "add it with `vrm vendor add`, or pass create_vendors")
        #expect(try count() == 0)
    }

    @Test func createVendorsAddsThemInTheSameWriteAndABadRowAddsNothing() throws {
        let good = "vendor,item,date,order\nAcme,Tent,2026-01-01,A1\nCamp Co,Stove,2026-01-02,C1\n  camp co ,Pan,2026-01-03,C2\nBolt Bikes,Bell,2026-01-04,B1\n"
        let before = try logicalDump(dir.file("vault.db"))
        let bad = good + "Delta Dive,Mask,2026-13-01,D1\n"
        #expect(throws: VaultError.self) { try vault.portability.importPurchases(try importBatch(bad), createVendors: true, dryRun: false) }
        #expect(try vault.vendors.all().map(\.name) == ["Acme"])
        #expect(try logicalDump(dir.file("vault.db")) == before)

        let dry = try vault.portability.importPurchases(try importBatch(good), createVendors: true, dryRun: true)
        #expect(dry.newVendors == ["Camp Co", "Bolt Bikes"] && dry.added.count == 4)
        #expect(try logicalDump(dir.file("vault.db")) == before)

        let done = try vault.portability.importPurchases(try importBatch(good), createVendors: true, dryRun: false)
        #expect(done.newVendors == ["Camp Co", "Bolt Bikes"] && done.added.map(\.vendor) == ["Acme", "Camp Co", "Camp Co", "Bolt Bikes"])
        #expect(try vault.vendors.all().map(\.name) == ["Acme", "Bolt Bikes", "Camp Co"])
        let again = try vault.portability.importPurchases(try importBatch(good), createVendors: true, dryRun: false)
        #expect(again.added.isEmpty && again.newVendors.isEmpty && again.duplicates == 4)
        for secret in ["Camp Co", "Bolt Bikes", "Stove", "Bell"] { #expect(!rawVaultContains(dir.file("vault.db"), secret), "\(secret)") }
    }

    @Test func anUnknownDefaultVendorIsOneProblem() throws {
        let error = try #require(throws: VaultError.self) {
            try vault.portability.importPurchases(
                try importBatch("item,date\nTent,2026-01-01\nPan,2026-01-02\n", PurchaseImport.Options(defaultVendor: "Acmee")), dryRun: false)
        }
        #expect(
            "\(error)" == "unknown vendor \"Acmee\" (given with default_vendor) (did you mean \"Acme\"?); add it with `vrm vendor add`, or pass create_vendors")
    }

    @Test func jsonImportsWithEntryNumbersAndADefaultVendor() throws {
        let json = #"[{"item": "Tent", "date": "2026-08-01", "price": "300", "currency": "EUR", "order": "A-9", "quantity": 2}]"#
        let batch = try importBatch(json, name: "o.json", PurchaseImport.Options(defaultVendor: "Acme"))
        #expect(try vault.portability.importPurchases(batch, dryRun: false).added.count == 1)
        #expect {
            try PurchaseImport.parse(#"[{"item": "x", "date": "2026-01-01", "price": 3.5, "currency": "EUR"}]"#, format: .json, defaultVendor: "Acme")
        } throws: { "\($0)".contains("entry 1, key \"price\": price must be a string") }
        #expect { try PurchaseImport.parse(#"{"item": "x"}"#, format: .json, defaultVendor: "Acme") } throws: { "\($0)".contains("array of objects") }
        #expect { try PurchaseImport.parse(#"[{"item": "x", "date": "2026-01-01", "quantity": true}]"#, format: .json, defaultVendor: "Acme") } throws: {
            "\($0)".contains("entry 1, key \"quantity\": quantity must be a string or a whole number")
        }
        #expect { try PurchaseImport.parse(#"[{"item": "x", "date": "2026-01-01", "quantity": "+5"}]"#, format: .json, defaultVendor: "Acme") } throws: {
            "\($0)".contains("invalid quantity")
        }
        #expect { try PurchaseImport.parse(#"[{"item": "x", "Date": "2026-01-01"}]"#, format: .json, defaultVendor: "Acme") } throws: {
            "\($0)".contains("entry 1: unknown key \"Date\" (did you mean \"date\"?)")
        }
        let padded = try PurchaseImport.parse(#"[{"item": " Tent ", "date": " 2026-01-01 ", "quantity": 2.0}]"#, format: .json, defaultVendor: "Acme")
        #expect(padded.first?.purchase.item == "Tent" && padded.first?.purchase.quantity == 2)
    }
}
