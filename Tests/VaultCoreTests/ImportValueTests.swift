import Testing
@testable import VaultCore

/// Amounts and dates as files write them.
@Suite struct ImportValueTests {
    @Test(arguments: [
        ("24.99", false, "24.99", nil as String?, false), ("$24.99", false, "24.99", "$", false), ("1,234.56", false, "1234.56", nil, false),
        ("€ 1.234,56", true, "1234.56", "€", false), ("EUR 12,00", true, "12.00", "EUR", false), ("12.00 USD", false, "12.00", "USD", false),
        ("-12.34", false, "12.34", nil, true), ("(5.00)", false, "5.00", nil, true), ("12,34-", true, "12.34", nil, true),
        ("-$1,000", false, "1000", "$", true), ("US$9", false, "9", "US$", false), ("1 234 567,5", true, "1234567.5", nil, false),
        ("1'234.50", false, "1234.50", nil, false), ("£0.99", false, "0.99", "£", false), ("¥1500", false, "1500", "¥", false),
        ("1234", true, "1234", nil, false), ("12 kr", false, "12", "kr", false), ("eur12.5", false, "12.5", "eur", false),
    ])
    func amountsAreReadAsWritten(_ text: String, _ comma: Bool, _ decimal: String, _ mark: String?, _ negative: Bool) throws {
        let amount = try #require(WrittenAmount.read(text, decimalComma: comma))
        #expect(amount.decimal == decimal && amount.mark?.written == mark && amount.negative == negative)
    }

    @Test(arguments: [
        ("1,50", false), ("1.234.56", false), ("12,3456.00", false), ("1,2345", false), ("1.", false), (".5", false), ("1e3", false), ("--5", false),
        ("$$5", false), ("12 34", false), ("1,234.56", true), ("", false), ("EUR", false), ("١٢", false), ("1, 234", false), ("1.5 XYZ", false),
    ])
    func malformedAmountsAreRefused(_ text: String, _ comma: Bool) {
        #expect(WrittenAmount.read(text, decimalComma: comma) == nil)
    }

    @Test(arguments: [
        "2024-03-14", "2024-03-14T18:22:05Z", "2024-03-14T18:22:05.123Z", "2024-03-14T23:59:59+05:30", "2024-03-14 18:22", "2024-03-14T18:22:05-0800",
        " 2024-03-14t00:00:00 UTC", "2024-03-14T18:22:05,5+01",
    ])
    func isoDaysAndTimestampsGiveTheDayAsWritten(_ text: String) {
        #expect(ImportDate.iso(text)?.description == "2024-03-14")
    }

    @Test(arguments: ["2024-03-14T25:00", "2024-03-14X", "2024-03-14T18", "2024-02-30T00:00Z", "20240314", "2024-03-14T18:22:05+5", "2024-03-14T18:22Zulu"])
    func malformedTimestampsAreRefused(_ text: String) {
        #expect(ImportDate.iso(text) == nil)
    }

    @Test(arguments: [
        ("%m/%d/%y", "03/14/24", "2024-03-14"), ("%m/%d/%y", "3/4/99", "1999-03-04"), ("%d.%m.%Y", "14.03.2024", "2024-03-14"),
        ("%d %b %Y", "14 Mar 2024", "2024-03-14"), ("%B %e, %Y", "March  4, 2024", "2024-03-04"), ("%b. %d, %Y", "Sept. 01, 2023", "2023-09-01"),
        ("%b %d, %Y", "Sept. 01, 2023", "2023-09-01"), ("%Y%m%d", "20240314", "2024-03-14"), ("%Y-%j", "2024-060", "2024-02-29"),
        ("%m/%d/%Y %I:%M %p", "03/14/2024 6:22 PM", "2024-03-14"), ("%d/%m/%y", "01/02/68", "2068-02-01"), ("%d/%m/%y", "01/02/69", "1969-02-01"),
        ("%%%Y-%m-%d", "%2024-03-14", "2024-03-14"),
    ])
    func dateFormatsReadTheirLayout(_ pattern: String, _ text: String, _ day: String) throws {
        let format = try ImportDateFormat(pattern)
        #expect(format.match(text) == .day(try #require(CalendarDate(day))))
    }

    @Test func dateFormatsTellANonDayFromAnotherLayout() throws {
        let format = try ImportDateFormat("%d/%m/%y")
        #expect(format.match("31/02/24") == .noSuchDay)
        #expect(format.match("2024/02/01") == .noMatch)
        #expect(format.match("01/02/24 extra") == .noMatch)
        #expect(try ImportDateFormat("%Y-%j").match("2023-366") == .noSuchDay)
    }

    @Test(arguments: ["%m/%d", "%d/%m/%q", "%Y %", "plain", "%H:%M"])
    func badPatternsAreRefused(_ pattern: String) {
        #expect { try ImportDateFormat(pattern) } throws: { "\($0)".contains("date_format") }
    }

    @Test func quotedFileTextCannotWriteToTheTerminal() {
        #expect(ImportProblem.shown("a\u{1B}[31mb\nc\u{202E}d", 40) == "a?[31mb?c?d")
        #expect(ImportProblem.shown("abcdef", 3) == "abc…")
    }
}
