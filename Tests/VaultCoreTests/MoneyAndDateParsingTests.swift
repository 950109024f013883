import Testing
import VaultCore

@Suite struct MoneyAndDateParsingTests {
    @Test(arguments: [
        ("12.34", "EUR", 1234), ("12.3", "eur", 1230), ("12", "USD", 1200), ("0", "GBP", 0), ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234), ("99999999.99", "EUR", 9_999_999_999),
    ])
    func validAmountsAreExactMinorUnits(_ amount: String, _ currency: String, _ minor: Int64) throws {
        let money = try Money.parse(amount, currency: currency)
        #expect(money.minorUnits == minor)
        #expect(money.currency == currency.uppercased())
    }

    @Test(arguments: [
        ("-1", "EUR"), ("1.234", "EUR"), ("1.5", "JPY"), ("abc", "EUR"), ("", "EUR"), ("1,50", "EUR"), ("1e3", "EUR"),
        ("12.", "EUR"), (".5", "EUR"), ("10", "XYZ"), ("10", "EURO"), ("+3", "EUR"), ("١٢", "EUR"),
    ])
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
