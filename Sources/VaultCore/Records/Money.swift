/// An exact amount of money: integer minor units of an ISO 4217 currency. Never a `Double`.
public struct Money: Codable, Sendable, Hashable {
    /// Amount in the currency's minor unit (cents for EUR, yen for JPY).
    public var minorUnits: Int64
    /// ISO 4217 alphabetic code, upper case.
    public var currency: String

    public init(minorUnits: Int64, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses `12.34` in `currency`; rejects negative, malformed, over-precise or unknown-currency input.
    public static func parse(_ amount: String, currency: String) throws -> Money {
        let code = currency.trimmingCharacters(in: .whitespaces).uppercased()
        guard let digits = ISO4217.minorDigits[code] else {
            throw VaultError.invalidInput("unknown currency code \"\(currency.prefix(10))\": use an ISO 4217 code such as EUR, USD, GBP, JPY")
        }
        let text = amount.trimmingCharacters(in: .whitespaces)
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, !text.hasPrefix("-"), !text.hasPrefix("+"), parts.count <= 2,
            let whole = parts.first, !whole.isEmpty, whole.count <= 13, whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber),
            let wholeValue = Int64(whole)
        else {
            throw VaultError.invalidInput("invalid price \"\(amount.prefix(20))\": use a non-negative amount like 12.34")
        }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.allSatisfy(\.isASCII), f.allSatisfy(\.isNumber), f.count <= digits, let value = Int64(f) else {
                throw VaultError.invalidInput("invalid price \"\(amount.prefix(20))\": \(code) has \(digits) decimal place\(digits == 1 ? "" : "s")")
            }
            fraction = value * Self.power(digits - f.count)
        }
        let (scaled, overflow) = wholeValue.multipliedReportingOverflow(by: power(digits))
        guard !overflow, scaled <= Int64.max - fraction else {
            throw VaultError.invalidInput("invalid price \"\(amount.prefix(20))\": too large")
        }
        return Money(minorUnits: scaled + fraction, currency: code)
    }

    static func power(_ n: Int) -> Int64 { (0..<n).reduce(1) { value, _ in value * 10 } }

    /// The amount as a decimal string with the currency's digits (`12.30`).
    public var amount: String {
        let digits = ISO4217.minorDigits[currency] ?? 2
        guard digits > 0 else { return String(minorUnits) }
        let p = Self.power(digits)
        let magnitude = minorUnits.magnitude
        let fraction = String(magnitude % UInt64(p))
        return (minorUnits < 0 ? "-" : "") + "\(magnitude / UInt64(p))." + String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
    }

    /// `12.30 EUR`.
    public var formatted: String { "\(amount) \(currency)" }
}

/// ISO 4217 active currency codes and their minor-unit digits.
public enum ISO4217 {
    static let zero = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
    static let three = "BHD IQD JOD KWD LYD OMR TND"
    static let four = "CLF UYW"
    static let two = """
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW \
        CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS \
        INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN \
        NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC \
        SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
        """

    /// Code → number of minor-unit digits.
    public static let minorDigits: [String: Int] = {
        var table: [String: Int] = [:]
        for (list, digits) in [(two, 2), (zero, 0), (three, 3), (four, 4)] {
            for code in list.split(whereSeparator: { $0 == " " || $0 == "\n" }) { table[String(code)] = digits }
        }
        return table
    }()
}
