/// A currency as an amount or a currency cell marks it: an ISO 4217 code, or a symbol that
/// stands for one currency (`€`) or several (`$`).
struct CurrencyMark: Sendable, Equatable {
    /// As written, for messages.
    var written: String
    /// The currencies it can stand for.
    var codes: [String]
    /// What it means with nothing else to go by: nil for a symbol of several currencies.
    var alone: String?

    /// Symbols, longest first where one starts another (`US$` before `$`).
    static let symbols: [CurrencyMark] = [
        CurrencyMark(written: "US$", codes: ["USD"], alone: "USD"),
        CurrencyMark(written: "CA$", codes: ["CAD"], alone: "CAD"),
        CurrencyMark(written: "AU$", codes: ["AUD"], alone: "AUD"),
        CurrencyMark(written: "NZ$", codes: ["NZD"], alone: "NZD"),
        CurrencyMark(written: "HK$", codes: ["HKD"], alone: "HKD"),
        CurrencyMark(written: "MX$", codes: ["MXN"], alone: "MXN"),
        CurrencyMark(written: "C$", codes: ["CAD"], alone: "CAD"),
        CurrencyMark(written: "A$", codes: ["AUD"], alone: "AUD"),
        CurrencyMark(written: "S$", codes: ["SGD"], alone: "SGD"),
        CurrencyMark(written: "R$", codes: ["BRL"], alone: "BRL"),
        CurrencyMark(
            written: "$",
            codes: [
                "USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN", "ARS", "CLP", "COP", "TWD", "BSD", "BBD", "BZD", "BMD", "FJD", "JMD", "LRD",
                "NAD", "SBD", "SRD", "TTD", "XCD", "KYD", "GYD", "BND", "CUP", "DOP", "UYU",
            ],
            alone: nil),
        CurrencyMark(written: "€", codes: ["EUR"], alone: "EUR"),
        CurrencyMark(written: "£", codes: ["GBP", "GIP", "FKP", "SHP", "EGP", "SYP", "LBP", "SDG", "SSP"], alone: "GBP"),
        CurrencyMark(written: "¥", codes: ["JPY", "CNY"], alone: nil),
        CurrencyMark(written: "￥", codes: ["JPY", "CNY"], alone: nil),
        CurrencyMark(written: "円", codes: ["JPY"], alone: "JPY"),
        CurrencyMark(written: "元", codes: ["CNY"], alone: "CNY"),
        CurrencyMark(written: "₹", codes: ["INR"], alone: "INR"),
        CurrencyMark(written: "₩", codes: ["KRW"], alone: "KRW"),
        CurrencyMark(written: "₽", codes: ["RUB"], alone: "RUB"),
        CurrencyMark(written: "₺", codes: ["TRY"], alone: "TRY"),
        CurrencyMark(written: "₪", codes: ["ILS"], alone: "ILS"),
        CurrencyMark(written: "₫", codes: ["VND"], alone: "VND"),
        CurrencyMark(written: "₱", codes: ["PHP"], alone: "PHP"),
        CurrencyMark(written: "฿", codes: ["THB"], alone: "THB"),
        CurrencyMark(written: "₴", codes: ["UAH"], alone: "UAH"),
        CurrencyMark(written: "zł", codes: ["PLN"], alone: "PLN"),
        CurrencyMark(written: "Kč", codes: ["CZK"], alone: "CZK"),
        CurrencyMark(written: "kr.", codes: ["DKK", "SEK", "NOK", "ISK"], alone: nil),
        CurrencyMark(written: "kr", codes: ["SEK", "NOK", "DKK", "ISK"], alone: nil),
    ]

    /// A code of the ISO 4217 table (any case) or a symbol, as a whole text.
    static func named(_ text: String) -> CurrencyMark? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let code = trimmed.uppercased()
        if code.count == 3, ISO4217.minorDigits[code] != nil { return CurrencyMark(written: trimmed, codes: [code], alone: code) }
        return symbols.first { $0.written == trimmed || $0.written.lowercased() == trimmed.lowercased() }
    }

    /// "$" could be USD, CAD, AUD, …
    var choices: String {
        codes.count <= 3 ? codes.joined(separator: ", ") : codes.prefix(3).joined(separator: ", ") + ", …"
    }
}

/// An amount as a file writes it (`Specs/import.md` §4.2): an optional sign (`-`, `+`, a
/// trailing `-`, or parentheses), an optional currency code or symbol before or after, digits
/// with thousands separators, and a decimal point — or a decimal comma when the file uses one.
struct WrittenAmount: Sendable, Equatable {
    var negative: Bool
    /// Plain digits with an optional `.` and fraction: `1234.56`.
    var decimal: String
    var mark: CurrencyMark?

    /// Digits after the decimal separator.
    var fractionDigits: Int {
        decimal.firstIndex(of: ".").map { decimal.distance(from: $0, to: decimal.endIndex) - 1 } ?? 0
    }

    /// Reads `text`; nil when it is not an amount.
    static func read(_ text: String, decimalComma: Bool) -> WrittenAmount? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false, signed = false
        var mark: CurrencyMark?
        if rest.hasPrefix("("), rest.hasSuffix(")"), rest.count > 2 {
            negative = true
            signed = true
            rest = rest.dropFirst().dropLast()
        }
        func trim() {
            while let first = rest.first, first.isWhitespace { rest = rest.dropFirst() }
            while let last = rest.last, last.isWhitespace { rest = rest.dropLast() }
        }
        func takeSign(_ c: Character?) -> Bool {
            guard let c, c == "-" || c == "+" || c == "\u{2212}" else { return false }
            guard !signed else { return false }
            signed = true
            negative = negative || c != "+"
            return true
        }
        // Before the digits: a sign and a currency, in either order.
        for _ in 0..<2 {
            trim()
            if takeSign(rest.first) {
                rest = rest.dropFirst()
            } else if mark == nil, let found = prefixMark(rest) {
                mark = found
                rest = rest.dropFirst(found.written.count)
            }
        }
        // After the digits: a currency, then a sign (or the other way round).
        for _ in 0..<2 {
            trim()
            if takeSign(rest.last) {
                rest = rest.dropLast()
            } else if mark == nil, let found = suffixMark(rest) {
                mark = found
                rest = rest.dropLast(found.written.count)
            }
        }
        trim()
        guard let decimal = number(rest, decimalComma: decimalComma) else { return nil }
        return WrittenAmount(negative: negative, decimal: decimal, mark: mark)
    }

    private static func prefixMark(_ text: Substring) -> CurrencyMark? {
        if let symbol = CurrencyMark.symbols.first(where: { text.hasPrefix($0.written) }) { return symbol }
        let letters = text.prefix { $0.isASCII && $0.isLetter }
        guard letters.count == 3, ISO4217.minorDigits[letters.uppercased()] != nil else { return nil }
        return CurrencyMark(written: String(letters), codes: [letters.uppercased()], alone: letters.uppercased())
    }

    private static func suffixMark(_ text: Substring) -> CurrencyMark? {
        if let symbol = CurrencyMark.symbols.first(where: { text.hasSuffix($0.written) }) { return symbol }
        let letters = String(text.reversed().prefix { $0.isASCII && $0.isLetter }.reversed())
        guard letters.count == 3, ISO4217.minorDigits[letters.uppercased()] != nil else { return nil }
        return CurrencyMark(written: letters, codes: [letters.uppercased()], alone: letters.uppercased())
    }

    /// `1,234.56` (or `1.234,56` with a decimal comma) → `1234.56`. Thousands separators
    /// (`,` or `.`, a space, a no-break space, `'`) split the whole part into groups of three
    /// after a first group of one to three digits; one kind per amount.
    private static func number(_ text: Substring, decimalComma: Bool) -> String? {
        let point: Character = decimalComma ? "," : "."
        let groupMarks: Set<Character> = [decimalComma ? "." : ",", " ", "\u{A0}", "\u{202F}", "'", "\u{2019}"]
        let parts = text.split(separator: point, omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, !whole.isEmpty else { return nil }
        func isDigits(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        var fraction = ""
        if parts.count == 2 {
            guard isDigits(parts[1]) else { return nil }
            fraction = "." + parts[1]
        }
        let separators = Set(whole.filter { groupMarks.contains($0) })
        guard separators.count <= 1 else { return nil }
        guard let separator = separators.first else { return isDigits(whole) ? String(whole) + fraction : nil }
        let groups = whole.split(separator: separator, omittingEmptySubsequences: false)
        guard let first = groups.first, isDigits(first), first.count <= 3, groups.dropFirst().allSatisfy({ isDigits($0) && $0.count == 3 }) else { return nil }
        return groups.joined() + fraction
    }
}
