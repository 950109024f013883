import Testing
@testable import VaultCore
import VaultTestSupport

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
        #expect {
            try PurchaseImport.parse(#"[{"item": "x", "date": "2026-01-01", "price": 3.5, "currency": "EUR"}]"#, format: .json, defaultVendor: "Acme")
        } throws: { "\($0)".contains("entry 1: price must be a string") }
        #expect { try PurchaseImport.parse(#"{"item": "x"}"#, format: .json, defaultVendor: "Acme") } throws: { "\($0)".contains("array of objects") }
        #expect { try PurchaseImport.parse(#"[{"item": "x", "date": "2026-01-01", "quantity": true}]"#, format: .json, defaultVendor: "Acme") } throws: {
            "\($0)".contains("entry 1: quantity must be a string or a whole number")
        }
        #expect { try PurchaseImport.parse(#"[{"item": "x", "date": "2026-01-01", "quantity": "+5"}]"#, format: .json, defaultVendor: "Acme") } throws: {
            "\($0)".contains("invalid quantity")
        }
        let padded = try PurchaseImport.parse(#"[{"item": " Tent ", "date": " 2026-01-01 ", "quantity": 2}]"#, format: .json, defaultVendor: "Acme")
        #expect(padded.first?.purchase.item == "Tent" && padded.first?.purchase.quantity == 2)
    }
}
