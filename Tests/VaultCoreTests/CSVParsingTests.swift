import Testing
import VaultCore

@Suite struct CSVParsingTests {
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
