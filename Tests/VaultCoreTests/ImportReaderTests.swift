import Foundation
import Testing
@testable import VaultCore

/// The readers under every import: JSON that keeps numbers as written, the XML/SGML reader,
/// and the text decoders. Malformed input is an error naming the line, never a crash.
@Suite struct ImportReaderTests {
    @Test func jsonKeepsNumbersAsWrittenAndKeysInOrder() throws {
        let value = try JSONText.parse("\u{FEFF}{\"b\": 0.1, \"a\": [1e3, -2.50E-1, \"x\\u00e9\\ud83d\\ude00\"], \"c\": null, \"d\": true}")
        #expect(value.members?.map(\.key) == ["b", "a", "c", "d"])
        #expect(value["b"] == .number("0.1"))
        #expect(value["a"]?.elements?.compactMap(\.scalarText) == ["1000", "-0.250", "xé😀"])
        #expect(value["c"] == .null && value["d"] == .bool(true))
    }

    @Test(arguments: [
        ("1e3", "1000"), ("2.50E-1", "0.250"), ("-0.5", "-0.5"), ("19.99", "19.99"), ("0", "0"), ("1E+2", "100"), ("5e-3", "0.005"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
    ])
    func jsonNumbersBecomePlainDecimalsDigitByDigit(_ literal: String, _ plain: String) {
        #expect(JSONNumber.plainDecimal(literal) == plain)
    }

    @Test func hugeExponentsAreNotExpanded() {
        #expect(JSONNumber.plainDecimal("1e400") == nil)
        #expect(JSONNumber.wholeNumber("3.0") == "3" && JSONNumber.wholeNumber("2.5") == nil && JSONNumber.wholeNumber("1e3") == "1000")
    }

    @Test(arguments: [
        ("", 1), ("[1,", 1), ("{\"a\" 1}", 1), ("[1]\n\n x", 3), ("{\"a\": \"open", 1), ("[01]", 1), ("[1.]", 1), ("[\"\\q\"]", 1), ("[tru]", 1),
        ("[\"\\ud800\\u0041\"]", 1), ("{\n\"a\":\n[1,,2]}", 3),
    ])
    func malformedJSONNamesTheLine(_ text: String, _ line: Int) {
        #expect(throws: JSONSyntaxError.self) { try JSONText.parse(text) }
        #expect { try JSONText.parse(text) } throws: { ($0 as? JSONSyntaxError)?.line == line }
    }

    @Test func deeplyNestedJSONIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect { try JSONText.parse(deep) } throws: { "\($0)".contains("nested deeper than 200") }
    }

    @Test func xmlElementsAttributesEntitiesCommentsCDATAAndNamespaces() throws {
        let xml = """
            <?xml version="1.0"?>
            <!DOCTYPE doc [ <!ENTITY x "y"> ]>
            <!-- a comment with <tags> -->
            <ns:Doc xmlns:ns="urn:x" a='1 &amp; 2'>
              <Amt Ccy="EUR">12.5&#48;</Amt>
              <Nm>Caf&#xE9; &lt;&gt;&quot;&apos;</Nm>
              <Raw><![CDATA[<not> & markup]]></Raw>
              <Empty/>
            </ns:Doc>
            """
        let roots = try MarkupReader.parse(xml, sgml: false)
        let doc = try #require(roots.first)
        #expect(doc.name == "Doc" && doc.attributes["a"] == "1 & 2" && doc.attributes["xmlns:ns"] == "urn:x")
        #expect(doc.value("Amt") == "12.50" && doc.child("Amt")?.attributes["Ccy"] == "EUR")
        #expect(doc.value("Nm") == "Café <>\"'")
        #expect(doc.value("Raw") == "<not> & markup")
        #expect(doc.child("Empty") != nil && doc.child("Amt")?.line == 5)
    }

    @Test(arguments: [
        ("<a><b></a>", "</a> closes <b>"), ("<a>", "ends inside <a>"), ("<a>x &nbsp; y</a>", "unknown or malformed entity"), ("<a>x & y</a>", "entity"),
        ("<a b=c></a>", "needs quotes"), ("<a><!-- open", "comment is never closed"), ("<a></b>", "closes nothing"), ("text <a/>", "outside the root"),
        ("<a x=\"1></a>", "never closed"), ("<a>&#0;</a>", "entity"), ("<a>&#xD800;</a>", "entity"), ("< a>", "starts no tag"),
    ])
    func malformedXMLIsAClearError(_ xml: String, _ message: String) {
        #expect { try MarkupReader.parse(xml, sgml: false) } throws: { "\($0)".contains(message) }
    }

    @Test func deeplyNestedXMLIsRefusedNotACrash() {
        let deep = String(repeating: "<a>", count: 50_000) + String(repeating: "</a>", count: 50_000)
        #expect { try MarkupReader.parse(deep, sgml: false) } throws: { "\($0)".contains("nested deeper than 200") }
        #expect { try MarkupReader.parse(deep, sgml: true) } throws: { "\($0)".contains("nested deeper than 200") }
    }

    @Test func sgmlLeavesCloseThemselves() throws {
        let sgml = "OFXHEADER:100\nDATA:OFXSGML\n\n<OFX>\n<stmttrn>\n<TRNAMT>-1.50\n<NAME>A & B\n<MEMO>\n<FITID>7\n</STMTTRN>\n</OFX>\n"
        let ofx = try #require(try MarkupReader.parse(sgml, sgml: true).first)
        let transaction = try #require(ofx.child("STMTTRN"))
        #expect(transaction.value("TRNAMT") == "-1.50")
        #expect(transaction.value("NAME") == "A & B")
        // An empty leaf left open takes the next element inside it; readers look below too.
        #expect(transaction.descendants(["FITID"]).first?.text.trimmingCharacters(in: .whitespacesAndNewlines) == "7")
    }

    @Test func truncatedSGMLIsAnError() {
        #expect { try MarkupReader.parse("<OFX>\n<BANKTRANLIST>\n<STMTTRN>\n<TRNAMT>-1\n", sgml: true) } throws: {
            "\($0)".contains("ends inside <STMTTRN>")
        }
    }

    @Test func garbageNeverCrashesTheReaders() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let length = Int.random(in: 0..<200, using: &generator)
            let bytes = (0..<length).map { _ in
                ["<", ">", "/", "&", ";", "#", "x", "a", "\"", "'", "=", " ", "\n", "!", "[", "]", "-", "?", "{", "}", ":", ",", "1", "e", "."].randomElement(
                    using: &generator) ?? ""
            }
            let text = bytes.joined()
            _ = try? MarkupReader.parse(text, sgml: false)
            _ = try? MarkupReader.parse(text, sgml: true)
            _ = try? JSONText.parse(text)
            _ = MailText.jsonLDScripts(inHTML: text)
            _ = MailText.jsonLDBlocks(inMessage: Array(text.utf8))
        }
    }

    @Test func notUTF8NamesTheLineAndByte() {
        let latin1 = Data("vendor,item\nCaf".utf8) + Data([0xE9]) + Data(",x\n".utf8)
        #expect { try ImportText.utf8(latin1, name: "orders.csv") } throws: { "\($0)".contains("orders.csv is not UTF-8 text (line 2 has the byte 0xE9)") }
        #expect(ImportText.windows1252([0x43, 0x61, 0x66, 0xE9, 0x80, 0x93, 0x81]) == "Café€“\u{81}")
        #expect(ImportText.utf8OrWindows1252(Data([0xC3, 0xA9])) == "é")
        #expect(ImportText.utf8OrWindows1252(Data([0xE9])) == "é")
    }
}
