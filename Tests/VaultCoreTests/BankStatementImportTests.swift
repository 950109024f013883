import Foundation
import Testing
@testable import VaultCore

/// `--preset ofx` and `--preset camt053`: one purchase per debit, the rest counted.
@Suite struct BankStatementImportTests {
    static func ofx(_ transactions: String, currency: String = "USD") -> String {
        """
        OFXHEADER:100\r
        DATA:OFXSGML\r
        VERSION:102\r
        CHARSET:1252\r
        \r
        <OFX>\r
        <BANKMSGSRSV1><STMTTRNRS><STMTRS>\r
        <CURDEF>\(currency)\r
        <BANKTRANLIST>\r
        <DTSTART>20240301\r
        \(transactions)
        </BANKTRANLIST>\r
        </STMTRS></STMTTRNRS></BANKMSGSRSV1>\r
        </OFX>\r
        """
    }

    static func transaction(_ amount: String, date: String = "20240304120000.000[-5:EST]", id: String = "1", name: String = "GREEN LEAF", memo: String? = nil)
        -> String
    {
        "<STMTTRN>\r\n<TRNTYPE>DEBIT\r\n<DTPOSTED>\(date)\r\n<TRNAMT>\(amount)\r\n<FITID>\(id)\r\n<NAME>\(name)\r\n" + (memo.map { "<MEMO>\($0)\r\n" } ?? "")
            + "</STMTTRN>\r\n"
    }

    func read(_ text: String, preset: String, name: String = "statement") throws -> PurchaseImport.Batch {
        try importBatch(text, name: name, PurchaseImport.Options(preset: preset))
    }

    func readOFX(_ data: Data) throws -> PurchaseImport.Batch {
        try PurchaseImport.read([PurchaseImport.InputFile(name: "s.ofx", data: data)], options: PurchaseImport.Options(preset: "ofx"))
    }

    @Test func ofx1DebitsArePurchasesAndCreditsAreCounted() throws {
        let text = Self.ofx(
            Self.transaction("-42.17", memo: "Weekly groceries") + Self.transaction("500.00", id: "2", name: "PAYMENT")
                + Self.transaction("-0,50", date: "20240305", id: "3", name: "Kiosk") + Self.transaction("0.00", id: "4")
                + "<STMTTRN>\r\n<TRNAMT>-129.000\r\n<DTPOSTED>20240309\r\n<FITID>5\r\n<PAYEE>\r\n<NAME>Joe's Bikes & Co\r\n<CITY>Springfield\r\n</PAYEE>\r\n"
                + "<CURRENCY><CURRATE>1.1<CURSYM>EUR</CURRENCY>\r\n</STMTTRN>\r\n")
        let batch = try read(text, preset: "ofx")
        #expect(batch.problems.isEmpty, "\(batch.problems)")
        #expect(batch.skipped.credits == 2)
        let purchases = batch.rows.map(\.purchase)
        #expect(purchases.map(\.vendorName) == ["GREEN LEAF", "Kiosk", "Joe's Bikes & Co"])
        #expect(purchases.map(\.item) == ["Weekly groceries", "Kiosk", "Joe's Bikes & Co"])
        #expect(purchases.map { $0.price?.formatted } == ["42.17 USD", "0.50 USD", "129.00 EUR"])
        #expect(purchases.map(\.orderNumber) == ["1", "3", "5"] && purchases.first?.date?.description == "2024-03-04")
        #expect(batch.rows.first?.location == "transaction 1 (line 11)")
    }

    @Test func ofx2XMLReadsToo() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="no"?>
            <?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
            <OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><CCSTMTRS><CURDEF>EUR</CURDEF><BANKTRANLIST>
            <STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240102</DTPOSTED><TRNAMT>-9.99</TRNAMT><FITID>X1</FITID>
            <PAYEE><NAME>Caf&#233; &amp; Bar</NAME></PAYEE><MEMO>Lunch</MEMO></STMTTRN>
            </BANKTRANLIST></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
            """
        let batch = try read(xml, preset: "ofx")
        #expect(batch.rows.map(\.purchase.vendorName) == ["Café & Bar"] && batch.rows.first?.purchase.price == Money(minorUnits: 999, currency: "EUR"))
    }

    @Test func ofxInWindows1252IsDecoded() throws {
        var data = Data(Self.ofx(Self.transaction("-3.00", name: "CAF")).utf8)
        let at = try #require(data.range(of: Data("CAF".utf8)))
        data.insert(0xC9, at: at.upperBound)
        #expect(try readOFX(data).rows.first?.purchase.vendorName == "CAFÉ")
    }

    @Test func badTransactionsAreReportedWithTheirElements() throws {
        let text = Self.ofx(
            Self.transaction("-1.00", date: "2024-03-04") + Self.transaction("abc", id: "2") + Self.transaction("-1.001", id: "3")
                + "<STMTTRN>\r\n<TRNAMT>-2\r\n<DTPOSTED>20240101\r\n</STMTTRN>\r\n")
        let batch = try read(text, preset: "ofx")
        #expect(
            batch.problems.map(\.description) == [
                "transaction 1 (line 11), element DTPOSTED: invalid date \"2024-03-04\": OFX dates are YYYYMMDD, then an optional time",
                "transaction 2 (line 18), element TRNAMT: invalid amount \"abc\": use a number like -12.34",
                "transaction 3 (line 25), element TRNAMT: invalid price \"1.001\": USD has 2 decimal places",
                "transaction 4 (line 32): the transaction names no payee (NAME): pass default_vendor",
                "transaction 4 (line 32): item is empty",
            ])
    }

    @Test(arguments: [
        ("", "not an OFX file: there is no <OFX> element"), ("garbage \u{0} ~~~", "not an OFX file"),
        ("<OFX><BANKTRANLIST><STMTTRN><TRNAMT>-1", "ends inside <STMTTRN>"),
        ("<OFX>\n<BANKTRANLIST>\n<STMTTRN>\n<TRNAMT>-1\n<NAME>", "line 5: the file ends inside <STMTTRN> (opened on line 3)"),
    ])
    func malformedOFXIsAClearError(_ text: String, _ message: String) {
        #expect { try read(text, preset: "ofx") } throws: { "\($0)".contains(message) }
    }

    @Test func tenThousandTransactionsOrEntriesReadInLinearTime() throws {
        let one = (0..<10_000).map { Self.transaction("-1.\(String(format: "%02d", $0 % 100))", id: "T\($0)", name: "Shop \($0 % 50)") }.joined()
        let started = Date()
        let batch = try read(Self.ofx(one), preset: "ofx")
        let seconds = Date().timeIntervalSince(started)
        #expect(batch.rows.count == 10_000 && batch.problems.isEmpty)
        #expect(seconds < 10, "took \(seconds) s")
        let entries = (0..<10_000).map { Self.entry(reference: "<AcctSvcrRef>R\($0)</AcctSvcrRef>") }.joined()
        let camtStarted = Date()
        let camt = try read(Self.camt(entries: entries), preset: "camt053")
        #expect(camt.rows.count == 10_000 && Date().timeIntervalSince(camtStarted) < 10)
    }

    static func camt(_ version: String = "08", entries: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.\(version)">
        <BkToCstmrStmt><GrpHdr><MsgId>1</MsgId></GrpHdr><Stmt><Id>S</Id>
        \(entries)
        </Stmt></BkToCstmrStmt></Document>
        """
    }

    static func entry(
        _ indicator: String = "DBIT", amount: String = "84.90", extra: String = "", date: String = "<BookgDt><Dt>2024-04-03</Dt></BookgDt>",
        details: String =
            "<NtryDtls><TxDtls><RltdPties><Cdtr><Pty><Nm>Bergsport</Nm></Pty></Cdtr></RltdPties><RmtInf><Ustrd>Schuhe</Ustrd></RmtInf></TxDtls></NtryDtls>",
        reference: String = "<AcctSvcrRef>R1</AcctSvcrRef>"
    ) -> String {
        "<Ntry><Amt Ccy=\"EUR\">\(amount)</Amt><CdtDbtInd>\(indicator)</CdtDbtInd>\(extra)<Sts><Cd>BOOK</Cd></Sts>\(date)\(reference)\(details)</Ntry>\n"
    }

    @Test func camtDebitsArePurchasesWithTheirFallbacks() throws {
        let entries =
            Self.entry()
            + Self.entry(
                amount: "12.80", date: "<BookgDt><DtTm>2024-04-11T17:42:10+02:00</DtTm></BookgDt>",
                details: "<NtryDtls><TxDtls><Refs><EndToEndId>E2E</EndToEndId></Refs><RltdPties><Cdtr><Nm>Caf&#233;</Nm></Cdtr></RltdPties></TxDtls></NtryDtls>"
                    + "<AddtlNtryInf>Karte</AddtlNtryInf>", reference: "")
            + Self.entry(
                amount: "39.000", date: "<ValDt><Dt>2024-04-20</Dt></ValDt>",
                details: "<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs></TxDtls></NtryDtls><AddtlNtryInf>Stadtwerke</AddtlNtryInf>",
                reference: "<NtryRef>N5</NtryRef>")
            + Self.entry(amount: "5", details: "<AddtlNtryInf>Automat</AddtlNtryInf>", reference: "")
            + Self.entry("CRDT") + Self.entry(extra: "<RvslInd>true</RvslInd>") + Self.entry().replacingOccurrences(of: "BOOK", with: "PDNG")
        let batch = try read(Self.camt(entries: entries), preset: "camt053")
        #expect(batch.problems.isEmpty, "\(batch.problems)")
        #expect(batch.skipped.credits == 1 && batch.skipped.reversals == 1 && batch.skipped.pending == 1)
        let purchases = batch.rows.map(\.purchase)
        #expect(purchases.map(\.vendorName) == ["Bergsport", "Café", "Stadtwerke", "Automat"])
        #expect(purchases.map(\.item) == ["Schuhe", "Karte", "Stadtwerke", "Automat"])
        #expect(purchases.map(\.orderNumber) == ["R1", "E2E", "N5", nil])
        #expect(purchases.map { $0.date?.description } == ["2024-04-03", "2024-04-11", "2024-04-20", "2024-04-03"])
        #expect(purchases.map { $0.price?.minorUnits } == [8490, 1280, 3900, 500])
    }

    @Test(arguments: ["02", "04", "08"])
    func camtVersionsTwoToEightRead(_ version: String) throws {
        let details = "<NtryDtls><TxDtls><RltdPties><Cdtr><Nm>Shop</Nm></Cdtr></RltdPties></TxDtls></NtryDtls>"
        #expect(try read(Self.camt(version, entries: Self.entry(details: details)), preset: "camt053").rows.first?.purchase.vendorName == "Shop")
    }

    @Test(arguments: [
        (camt("09", entries: ""), "camt.053.001.09 is a version not read here"),
        ("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\"><BkToCstmrDbtCdtNtfctn/></Document>", "this is a camt.054.001.08 file"),
        ("<Document><Other/></Document>", "holds no <BkToCstmrStmt>"), ("", "there is no XML element"),
        (camt(entries: "<Ntry><Amt Ccy=\"EUR\">1</Amt>"), "line 5: </Stmt> closes <Ntry>"),
        (String(camt(entries: entry()).dropLast(34)), "the file ends inside"),
        ("\u{FEFF}garbage", "text outside the root element"),
    ])
    func malformedCamtIsAClearError(_ text: String, _ message: String) {
        #expect { try read(text, preset: "camt053") } throws: { "\($0)".contains(message) }
    }

    @Test func badCamtEntriesAreReportedWithTheirElements() throws {
        let entries = Self.entry(amount: "-5") + Self.entry("XXX") + Self.entry(date: "") + Self.entry(details: "", reference: "")
        let batch = try read(Self.camt(entries: entries), preset: "camt053")
        #expect(
            batch.problems.map(\.description) == [
                "entry 1 (line 4), element Amt: invalid amount \"-5\": camt.053 amounts are digits with a decimal point, like 12.34",
                "entry 2 (line 5), element CdtDbtInd: expected DBIT or CRDT, found \"XXX\"",
                "entry 3 (line 6), element BookgDt: date is empty",
                "entry 4 (line 7): the entry names no creditor (Cdtr/Nm) and has no AddtlNtryInf: pass default_vendor",
                "entry 4 (line 7): item is empty",
            ])
    }
}
