import Foundation
import Testing
@testable import VaultCore

/// Any other CSV: `--map`, `--date-format`, `--delimiter`, `--decimal-comma`, `--currency`,
/// currency symbols and codes, thousands separators.
@Suite struct ImportOptionTests {
    func rows(_ text: String, _ options: PurchaseImport.Options) throws -> [NewPurchase] {
        let batch = try importBatch(text, options)
        guard batch.problems.isEmpty else { throw ImportProblem.rejection(batch.problems) }
        return batch.rows.map(\.purchase)
    }

    @Test func aShopExportReadsWithMapsAndADateFormat() throws {
        let csv = "Order #,Order Date,Product,Qty,Total,Notes\nW-1,03/14/24,Beanie,1,$24.99,\"wrap, please\"\nW-2,12/28/23,Jacket,2,\"$1,049.00\",\n"
        let options = PurchaseImport.Options(
            defaultVendor: "Acme", columnMap: ["Order #=order", "order date=date", "Product=item", "Qty=quantity", "Total = price", "Notes=-"],
            dateFormat: "%m/%d/%y", defaultCurrency: "USD")
        let purchases = try rows(csv, options)
        #expect(purchases.map(\.orderNumber) == ["W-1", "W-2"])
        #expect(purchases.map { $0.date?.description } == ["2024-03-14", "2023-12-28"])
        #expect(purchases.map { $0.price } == [Money(minorUnits: 2499, currency: "USD"), Money(minorUnits: 104_900, currency: "USD")])
        #expect(purchases.map(\.quantity) == [1, 2])
    }

    @Test func aBankExportReadsWithSemicolonsAndDecimalCommas() throws {
        let csv = "Datum;Empfänger;Zweck;Betrag;Währung\n14.03.2024;Bücherstube;Roman;1.234,50;EUR\n2024-04-02T10:00:00+02:00;Café;Kuchen;EUR 3,20;\n"
        let options = PurchaseImport.Options(
            columnMap: ["Datum=date", "Empfänger=vendor", "Zweck=item", "Betrag=price", "Währung=currency"], dateFormat: "%d.%m.%Y", delimiter: ";",
            decimalComma: true)
        let purchases = try rows(csv, options)
        #expect(purchases.map(\.vendorName) == ["Bücherstube", "Café"])
        #expect(purchases.map { $0.price?.minorUnits } == [123_450, 320])
        #expect(purchases.map { $0.price?.currency } == ["EUR", "EUR"])
        #expect(purchases.last?.date?.description == "2024-04-02")
        let tabs = try rows("vendor\titem\tdate\nAcme\tTent\t2026-01-01\n", PurchaseImport.Options(delimiter: "tab"))
        #expect(tabs.first?.item == "Tent")
    }

    @Test(arguments: [
        ("$24.99", "", "USD" as String?, "24.99 USD" as String?, nil as String?), ("$24.99", "CAD", nil, "24.99 CAD", nil), ("€5", "", nil, "5.00 EUR", nil),
        ("5 EUR", "", nil, "5.00 EUR", nil), ("£3.50", "", "USD", "3.50 GBP", nil), ("¥1500", "", "JPY", "1500 JPY", nil), ("12", "", "GBP", "12.00 GBP", nil),
        ("$5", "", nil, nil, "\"$\" in the price \"$5\" could be USD, CAD, AUD, …: pass default_currency with the code"),
        ("$5", "", "EUR", nil, "the price \"$5\" is not in EUR"), ("€5", "USD", nil, nil, "the price \"€5\" is not in USD"),
        ("5 USD", "EUR", nil, nil, "the price \"5 USD\" is not in EUR"), ("12", "", nil, nil, "a price needs a currency"),
        ("1,50", "EUR", nil, nil, "invalid price \"1,50\": use a non-negative amount like 12.34 (for a decimal comma pass decimal_comma)"),
        ("5", "¥", nil, nil, "the currency \"¥\" could be JPY, CNY: write its ISO 4217 code"), ("5", "€", nil, "5.00 EUR", nil),
    ])
    func currenciesComeFromTheColumnTheAmountOrTheDefault(_ price: String, _ column: String, _ fallback: String?, _ money: String?, _ problem: String?) throws {
        let csv = "vendor,item,date,price,currency\nAcme,Tent,2026-01-01,\"\(price)\",\(column)\n"
        let batch = try importBatch(csv, PurchaseImport.Options(defaultCurrency: fallback))
        #expect(batch.rows.first?.purchase.price?.formatted == money)
        #expect(problem.map { batch.problems.first?.message.hasPrefix($0) ?? false } ?? batch.problems.isEmpty, "\(batch.problems)")
    }

    @Test(arguments: [
        (PurchaseImport.Options(preset: "amazn"), "unknown import_preset \"amazn\" (did you mean \"amazon\"?)"),
        (PurchaseImport.Options(format: "xml"), "import_format must be csv or json"),
        (PurchaseImport.Options(format: "csv", preset: "ofx"), "import_format applies to"),
        (PurchaseImport.Options(columnMap: ["Order Date"]), "column_map \"Order Date\" must be SOURCE=COLUMN"),
        (PurchaseImport.Options(columnMap: ["Order Date=dat"]), "\"dat\" is not a column (did you mean \"date\"?)"),
        (PurchaseImport.Options(columnMap: ["a=date", "A=item"]), "maps \"A\" twice"),
        (PurchaseImport.Options(preset: "ofx", columnMap: ["a=date"]), "column_map applies to the generic csv and json formats, not to import_preset ofx"),
        (PurchaseImport.Options(delimiter: "ab"), "csv_delimiter must be one character"),
        (PurchaseImport.Options(delimiter: "\""), "csv_delimiter must be one character"),
        (PurchaseImport.Options(dateFormat: "%q"), "date_format \"%q\" uses %q"),
        (PurchaseImport.Options(preset: "camt053", decimalComma: true), "decimal_comma applies to"),
        (PurchaseImport.Options(defaultCurrency: "DOLLARS"), "default_currency \"DOLLARS\" is not an ISO 4217 code"),
        (PurchaseImport.Options(defaultCurrency: "$"), "default_currency \"$\" is not an ISO 4217 code"),
        (PurchaseImport.Options(encoding: "ebcdic"), "import_encoding must be utf-8 or windows-1252"),
        (PurchaseImport.Options(defaultVendor: "  "), "default_vendor must be 1-200 characters"),
    ])
    func badOptionsAreRefusedBeforeAnythingIsRead(_ options: PurchaseImport.Options, _ message: String) {
        #expect { try importBatch("vendor,item,date\n", options) } throws: { "\($0)".contains(message) }
    }

    @Test func theHeaderIsCheckedAgainstTheMaps() {
        #expect { try importBatch("vendor,item,Order Date\n", PurchaseImport.Options(columnMap: ["Date=date"])) } throws: {
            "\($0)".contains("line 1: column_map names \"Date\", which the header does not have (the header has: vendor, item, Order Date)")
        }
        #expect { try importBatch("vendor,item,date,Order Date\n", PurchaseImport.Options(columnMap: ["Order Date=date"])) } throws: {
            "\($0)".contains("line 1: column \"date\" appears twice (\"date\" and \"Order Date\")")
        }
        #expect { try importBatch("Website,Order ID,Order Date,ASIN\n") } throws: {
            let text = "\($0)"
            return text.contains("line 1: unknown columns \"Website\", \"Order ID\", \"Order Date\", \"ASIN\"; columns are vendor, item")
                && text.contains("map a column with column_map \"Website=COLUMN\" or ignore it with column_map \"Website=-\"")
                && text.contains("this looks like an Amazon order history: pass import_preset amazon")
        }
        #expect { try importBatch("OFXHEADER:100\nDATA:OFXSGML\n<OFX>\n") } throws: { "\($0)".contains("pass import_preset ofx") }
    }

    @Test func aColumnWithNoNameIsIgnoredOnlyWhenItIsEmpty() throws {
        let trailing = try importBatch("vendor,item,date,\nAcme,Tent,2026-01-01,\nAcme,Pan,2026-01-02, \n")
        #expect(trailing.rows.count == 2 && trailing.problems.isEmpty)
        #expect { try importBatch("vendor,item,date,\nAcme,Tent,2026-01-01,\nAcme,Pan,2026-01-02,x\n") } throws: {
            "\($0)" == "line 1: column 4 has no name, but line 3 has a value in it: name it in the header, then map or ignore it with column_map"
        }
    }

    @Test func anUnterminatedQuoteAndAHugeFieldAreHandled() throws {
        #expect { try importBatch("vendor,item,date\nAcme,\"Tent,2026-01-01\nAcme,Pan,2026-01-02\n") } throws: {
            "\($0)".contains("line 2: a quoted field is never closed")
        }
        let huge = String(repeating: "x", count: 3_000_000)
        let batch = try importBatch("vendor,item,date\nAcme,\"\(huge)\",2026-01-01\n")
        #expect(batch.problems.map(\.description) == ["line 2, column \"item\": the item must be 1-2000 characters"])
    }

    @Test func bomCRLFAndQuotedLineBreaksReadAsRFC4180() throws {
        let purchases = try rows("\u{FEFF}vendor,item,date\r\nAcme,\"two\r\nlines, \"\"quoted\"\"\",2026-01-01\r\n", PurchaseImport.Options())
        #expect(purchases.first?.item == "two\r\nlines, \"quoted\"")
    }

    @Test func notUTF8IsAClearErrorAndWindows1252CanBeAskedFor() throws {
        let latin1 = Data("vendor,item,date\nAcme,Caf".utf8) + Data([0xE9]) + Data(",2026-01-01\n".utf8)
        #expect { try PurchaseImport.read([PurchaseImport.InputFile(name: "o.csv", data: latin1)], options: PurchaseImport.Options()) } throws: {
            "\($0)".contains("o.csv is not UTF-8 text (line 2 has the byte 0xE9)")
        }
        let ofx = Data("OFXHEADER:100\nCHARSET:1252\n\n<OFX><NAME>CAF".utf8) + Data([0xC9])
        #expect { try PurchaseImport.read([PurchaseImport.InputFile(name: "s.ofx", data: ofx)], options: PurchaseImport.Options()) } throws: {
            "\($0)".hasSuffix("(this looks like an OFX statement: pass import_preset ofx)")
        }
        let batch = try PurchaseImport.read([PurchaseImport.InputFile(name: "o.csv", data: latin1)], options: PurchaseImport.Options(encoding: "latin1"))
        #expect(batch.rows.first?.purchase.item == "Café")
    }

    @Test func emptyAndGarbageFilesAreClearErrors() throws {
        #expect { try importBatch("") } throws: { "\($0)".contains("the file is empty") }
        #expect { try importBatch("", name: "o.json") } throws: { "\($0)".contains("array of objects") }
        #expect { try importBatch("\u{0}\u{1}garbage\u{7F}") } throws: { "\($0)".contains("unknown column") }
        #expect { try importBatch("[{\"item\": ", name: "o.json") } throws: { "\($0)".contains("invalid JSON at line 1") }
        #expect(try importBatch("[]", name: "o.json").rows.isEmpty)
    }
}
