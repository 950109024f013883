import Foundation
import Testing
@testable import VaultCore
import VaultTestSupport

/// Found by an outside check of the import: every problem of a file in one run, including an
/// unknown vendor on a row with other problems; a source's own syntax rules in its messages;
/// no terminal escapes from a malformed file.
@Suite struct ImportReviewTests {
    let dir = TemporaryDirectory()
    let vault: Vault

    init() throws {
        vault = try makeVault(in: dir)
        try vault.vendors.add(name: "Acme Outdoor")
    }

    func messages(_ batch: PurchaseImport.Batch) -> String {
        do {
            _ = try vault.portability.importPurchases(batch, dryRun: true)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func anUnknownVendorIsReportedOnARowWithOtherProblemsToo() throws {
        let batch = try importBatch("vendor,item,date\nNope Shop,Thing,2024-13-01\nAcme Outdoor,,2024-01-01\n")
        let text = messages(batch)
        #expect(text.contains("line 2, column \"date\""))
        #expect(text.contains("line 3, column \"item\"") || text.contains("line 3"))
        #expect(text.contains("unknown vendor \"Nope Shop\""), "\(text)")
        #expect(try vault.purchases.list().isEmpty)
        #expect(try vault.vendors.all().count == 1)
    }

    @Test func anOFXTransactionReportsEveryProblemItHas() throws {
        let text = BankStatementImportTests.ofx(
            "<STMTTRN>\r\n<DTPOSTED>2024\r\n<TRNAMT>-x\r\n<FITID>5\r\n<NAME>Unknown Shop\r\n</STMTTRN>\r\n"
                + "<STMTTRN>\r\n<DTPOSTED>2024\r\n<TRNAMT>-1.001\r\n<FITID>4\r\n<NAME>Acme Outdoor\r\n</STMTTRN>\r\n")
        let batch = try importBatch(text, name: "s.ofx", PurchaseImport.Options(preset: "ofx"))
        let all = messages(batch)
        #expect(all.contains("element TRNAMT: invalid amount \"-x\""), "\(all)")
        #expect(all.components(separatedBy: "element DTPOSTED: invalid date").count == 3, "\(all)")
        #expect(all.contains("unknown vendor \"Unknown Shop\""), "\(all)")
        #expect(all.contains("USD has 2 decimal places"), "\(all)")
    }

    @Test func camtDatesAndAmountsAreJudgedByCamtRules() throws {
        let camt = """
            <?xml version="1.0"?>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt>
            <Ntry><Amt Ccy="EUR">84,9x</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>15.03.2024</Dt></BookgDt><AcctSvcrRef>R1</AcctSvcrRef>
            <NtryDtls><TxDtls><RltdPties><Cdtr><Nm>Acme Outdoor</Nm></Cdtr></RltdPties></TxDtls></NtryDtls></Ntry>
            </Stmt></BkToCstmrStmt></Document>
            """
        let all = messages(try importBatch(camt, name: "s.xml", PurchaseImport.Options(preset: "camt053")))
        #expect(all.contains("camt.053 dates are YYYY-MM-DD"), "\(all)")
        #expect(all.contains("camt.053 amounts are digits with a decimal point"), "\(all)")
        #expect(!all.contains("--date-format") && !all.contains("date_format") && !all.contains("decimal_comma"), "\(all)")
    }

    @Test func aMalformedTagCannotWriteEscapeSequences() throws {
        for preset in ["ofx", "camt053"] {
            let text = "<OFX>\n<STMTTRN\u{1B}]0;pwned\u{07} \u{1B}[2J=>\n<Document><BkToCstmrStmt\u{1B}[2J x></Bk\u{1B}[2JX>"
            do {
                _ = try importBatch(text, name: "s", PurchaseImport.Options(preset: preset))
                Issue.record("\(preset): a malformed file was read")
            } catch {
                let message = "\(error)"
                #expect(!message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(preset): \(message.debugDescription)")
            }
        }
    }

    @Test func debitsOnlyKeepsNegativeAmountsAndCountsTheRestAsCredits() throws {
        for (text, sign) in [
            ("-24,99", SourceRead.Sign.debit("24,99")), ("\u{2212}24.99", .debit("24.99")), ("24,99-", .debit("24,99")), ("(24.99)", .debit("24.99")),
            ("-€24.99", .debit("€24.99")), ("EUR -24.99", .debit("EUR 24.99")), ("24.99", .credit), ("+5", .credit), ("1-2", .unclear), ("--5", .unclear),
        ] {
            #expect(SourceRead.sign(of: text) == sign, "\(text)")
        }
        let csv =
            "Datum;Empfänger;Zweck;Betrag\n01.03.2024;Acme Outdoor;Schuhe;-1.129,90\n02.03.2024;Arbeitgeber;Gehalt;2.500,00\n03.03.2024;Acme Outdoor;Socken;12,00-\n"
        let options = PurchaseImport.Options(
            columnMap: ["Datum=date", "Empfänger=vendor", "Zweck=item", "Betrag=price"], dateFormat: "%d.%m.%Y", delimiter: ";", decimalComma: true,
            defaultCurrency: "EUR", debitsOnly: true)
        let batch = try importBatch(csv, options)
        #expect(batch.problems.isEmpty, "\(batch.problems)")
        #expect(batch.rows.map { $0.purchase.price?.formatted } == ["1129.90 EUR", "12.00 EUR"])
        #expect(batch.skipped.credits == 1)
        // Without the option a signed amount is a problem, as before.
        #expect(
            try importBatch(
                csv, PurchaseImport.Options(columnMap: options.columnMap, dateFormat: "%d.%m.%Y", delimiter: ";", decimalComma: true, defaultCurrency: "EUR")
            ).problems.count == 2)
        #expect(throws: VaultError.self) { try importBatch(csv, PurchaseImport.Options(preset: "ofx", debitsOnly: true)) }
    }

    @Test func anExtremeJSONExponentIsRefusedNotATrap() throws {
        #expect(JSONNumber.plainDecimal("1e-9223372036854775808") == nil)
        #expect(JSONNumber.plainDecimal("1e9223372036854775807") == nil)
        #expect(JSONNumber.plainDecimal("2.5e1") == "25")
        let json = #"[{"vendor":"Acme Outdoor","item":"Tent","date":"2024-01-01","quantity":1e-9223372036854775808}]"#
        let batch = try importBatch(json, name: "orders.json")
        #expect(batch.rows.isEmpty && batch.problems.count == 1, "\(batch.problems)")
    }
}
