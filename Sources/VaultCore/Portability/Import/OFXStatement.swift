/// OFX bank and credit-card statements (`Specs/import.md` §7.3): OFX 1.x (SGML, leaf tags
/// left open, header lines before `<OFX>`) and 2.x (XML). One purchase per debit
/// (`TRNAMT` below zero); credits and zero amounts are counted and left out.
struct OFXStatement {
    /// Statement aggregates whose `CURDEF` is the currency of their transactions.
    static let statements: Set<String> = ["STMTRS", "CCSTMTRS", "INVSTMTRS"]

    func read(_ text: String) throws -> SourceRead {
        let roots: [MarkupElement]
        do {
            roots = try MarkupReader.parse(text, sgml: true)
        } catch let error as MarkupError {
            throw VaultError.invalidInput("not a readable OFX file: \(error)")
        }
        guard let ofx = roots.first(where: { $0.name == "OFX" }) ?? roots.lazy.flatMap({ $0.descendants(["OFX"]) }).first else {
            throw VaultError.invalidInput("not an OFX file: there is no <OFX> element")
        }
        var read = SourceRead()
        var ordinal = 0
        let statements = ofx.descendants(Self.statements)
        let groups = statements.isEmpty ? [(ofx, nil)] : statements.map { ($0, $0.value("CURDEF")) }
        for (statement, currency) in groups {
            for transaction in statement.descendants(["STMTTRN"]) {
                ordinal += 1
                add(transaction, number: ordinal, currency: currency, to: &read)
            }
        }
        return read
    }

    /// A leaf's value: its own text, or (when a file left an empty leaf open, so the next
    /// element nested in it) the first such element found below.
    static func value(_ element: MarkupElement, _ path: String...) -> (text: String, name: String)? {
        var current = element
        for name in path {
            guard let next = current.child(name) ?? current.descendants([name]).first else { return nil }
            current = next
        }
        let text = current.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : (text, path.joined(separator: "/"))
    }

    private func add(_ transaction: MarkupElement, number: Int, currency: String?, to read: inout SourceRead) {
        var draft = DraftRow(location: "transaction \(number) (line \(transaction.line))", ordinal: number)
        draft.paddedAmounts = true
        func problem(_ column: ImportColumn, _ field: String, _ message: String) {
            draft.sourceProblems[column] = ImportProblem(location: draft.location, field: field, message: message, ordinal: number)
        }
        // A transaction whose amount cannot be read is still checked field by field, as a
        // debit, so that every problem it has is reported at once.
        if let amount = Self.value(transaction, "TRNAMT") {
            if let (negative, magnitude) = Self.amount(amount.text) {
                guard negative, magnitude.contains(where: { $0 != "0" && $0 != "." }) else {
                    read.skipped.credits += 1
                    return
                }
                draft.set(.price, magnitude, label: "element TRNAMT")
            } else {
                problem(.price, "element TRNAMT", "invalid amount \"\(ImportProblem.shown(amount.text, 30))\": use a number like -12.34")
            }
        } else {
            problem(.price, "element TRNAMT", "the transaction has no amount")
        }
        if let own = Self.value(transaction, "CURRENCY", "CURSYM") {
            draft.set(.currency, own.text, label: "element CURRENCY/CURSYM")
        } else if let currency {
            draft.set(.currency, currency, label: "element CURDEF")
        }
        if let posted = Self.value(transaction, "DTPOSTED") {
            if let day = Self.date(posted.text) {
                draft.set(.date, day.description, label: "element DTPOSTED")
            } else {
                problem(.date, "element DTPOSTED", "invalid date \"\(ImportProblem.shown(posted.text, 30))\": OFX dates are YYYYMMDD, then an optional time")
            }
        } else {
            draft.emptyLabels[.date] = "element DTPOSTED"
        }
        let payee = Self.value(transaction, "NAME") ?? Self.value(transaction, "PAYEE", "NAME")
        draft.set(.vendor, DraftRow.oneLine(payee?.text), label: payee.map { "element \($0.name)" })
        draft.missingVendor = "the transaction names no payee (NAME): pass default_vendor"
        let memo = Self.value(transaction, "MEMO")
        if let memo {
            draft.set(.item, DraftRow.oneLine(memo.text), label: "element MEMO")
        } else {
            draft.set(.item, DraftRow.oneLine(payee?.text), label: payee.map { "element \($0.name)" })
        }
        if let fitid = Self.value(transaction, "FITID") { draft.set(.order, fitid.text, label: "element FITID") }
        read.drafts.append(draft)
    }

    /// `-12.34`, `+5`, `-12,34` (OFX allows a decimal comma): the sign and the magnitude in
    /// plain digits with a decimal point; nil if malformed.
    static func amount(_ text: String) -> (negative: Bool, magnitude: String)? {
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        let normalised = rest.replacingOccurrences(of: ",", with: ".")
        let parts = normalised.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            !(parts.first?.isEmpty ?? true) || (parts.count == 2 && !parts[1].isEmpty)
        else { return nil }
        var whole = String(parts[0])
        if whole.isEmpty { whole = "0" }
        return (negative, parts.count == 2 && !parts[1].isEmpty ? "\(whole).\(parts[1])" : whole)
    }

    /// `YYYYMMDD[HHMMSS[.XXX]][[+-]H[.MM]:TZ]`: the calendar day as written (the time and
    /// zone are checked for shape, then ignored).
    static func date(_ text: String) -> CalendarDate? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 8, scalars[0..<8].allSatisfy({ $0.isASCII && $0.properties.numericType != nil }),
            let year = Int(String(String.UnicodeScalarView(scalars[0..<4]))), let month = Int(String(String.UnicodeScalarView(scalars[4..<6]))),
            let day = Int(String(String.UnicodeScalarView(scalars[6..<8])))
        else { return nil }
        var rest = String(String.UnicodeScalarView(scalars[8...]))
        if let bracket = rest.firstIndex(of: "[") {
            guard rest.hasSuffix("]") else { return nil }
            let zone = rest[rest.index(after: bracket)..<rest.index(before: rest.endIndex)]
            guard zone.count <= 20, zone.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.:".contains($0)) }) else { return nil }
            rest = String(rest[..<bracket])
        }
        guard rest.count <= 10, rest.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else { return nil }
        return CalendarDate(year: year, month: month, day: day)
    }
}
