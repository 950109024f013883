/// Dates as files write them: ISO 8601 days and timestamps always, other layouts through a
/// `--date-format` pattern (`Specs/import.md` §4.1, §5.2).
enum ImportDate {
    /// `YYYY-MM-DD`, or an ISO 8601 timestamp starting with it (`2024-03-14T18:22:05Z`,
    /// `2024-03-14T18:22:05.123+01:00`, `2024-03-14 18:22`): the calendar day as written,
    /// whatever the offset says.
    static func iso(_ text: String) -> CalendarDate? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let scalars = Array(trimmed.unicodeScalars)
        guard scalars.count >= 10 else { return nil }
        guard let day = CalendarDate(String(String.UnicodeScalarView(scalars[0..<10]))) else { return nil }
        guard scalars.count > 10 else { return day }
        guard scalars[10] == "T" || scalars[10] == "t" || scalars[10] == " " else { return nil }
        return isTime(scalars[11...]) ? day : nil
    }

    /// For text that starts like `YYYY-MM-DD` (four, two and two ASCII digits) but is not a
    /// valid ISO date or timestamp: why. Nil for text of another layout.
    static func isoProblem(_ text: String) -> String? {
        let scalars = Array(text.trimmingCharacters(in: .whitespaces).unicodeScalars)
        guard scalars.count >= 10 else { return nil }
        let shaped = scalars[0..<10].enumerated().allSatisfy { index, scalar in
            index == 4 || index == 7 ? scalar == "-" : (scalar.isASCII && scalar.properties.numericType != nil)
        }
        guard shaped else { return nil }
        guard CalendarDate(String(String.UnicodeScalarView(scalars[0..<10]))) != nil else { return "there is no such day (YYYY-MM-DD, years 1900-2999)" }
        return "after the day, expected an ISO 8601 time such as T18:22:05Z"
    }

    /// `HH:MM[:SS[.fraction]]` then `Z`, `±HH[:MM]`, `±HHMM`, ` UTC` or ` GMT`, or nothing.
    private static func isTime(_ rest: ArraySlice<Unicode.Scalar>) -> Bool {
        var i = rest.startIndex
        func number(_ count: Int, max: Int) -> Bool {
            guard i + count <= rest.endIndex else { return false }
            var value = 0
            for scalar in rest[i..<i + count] {
                guard let digit = Int(String(scalar)), scalar.isASCII else { return false }
                value = value * 10 + digit
            }
            i += count
            return value <= max
        }
        guard number(2, max: 24), i < rest.endIndex, rest[i] == ":" else { return false }
        i += 1
        guard number(2, max: 59) else { return false }
        if i < rest.endIndex, rest[i] == ":" {
            i += 1
            guard number(2, max: 60) else { return false }
            if i < rest.endIndex, rest[i] == "." || rest[i] == "," {
                i += 1
                let start = i
                while i < rest.endIndex, rest[i].isASCII, rest[i].properties.numericType != nil { i += 1 }
                guard i > start else { return false }
            }
        }
        let zone = String(String.UnicodeScalarView(rest[i...]))
        if zone.isEmpty || zone == "Z" || zone == "z" || zone == " UTC" || zone == " GMT" || zone == " Z" { return true }
        var offset = Array(zone.unicodeScalars)
        guard let sign = offset.first, sign == "+" || sign == "-" else { return false }
        offset.removeFirst()
        if offset.count == 5, offset[2] == ":" { offset.remove(at: 2) }
        guard offset.count == 2 || offset.count == 4, offset.allSatisfy({ $0.isASCII && $0.properties.numericType != nil }) else { return false }
        return true
    }
}

/// A `--date-format` pattern: a strftime subset. `%Y` four-digit year, `%y` two-digit year
/// (69-99 → 1969-1999, 00-68 → 2000-2068, as POSIX `strptime`), `%m` month, `%d` / `%e` day
/// (one or two digits; `%e` may start with a space), `%b` / `%B` English month name or its
/// three-letter abbreviation (any case; `Sept` too), `%j` day of the year, `%H` `%M` `%S`
/// hours, minutes, seconds and `%p` AM/PM (checked, then ignored), `%%` a literal `%`.
/// Any other character must appear as written; a space matches one or more spaces.
public struct ImportDateFormat: Sendable, Equatable, CustomStringConvertible {
    enum Piece: Sendable, Equatable {
        case year4, year2, month, day, monthName, dayOfYear, hour, minute, second, ampm
        case literal(Character)
        case space
    }

    let pieces: [Piece]
    public let description: String

    /// Parses a pattern; a pattern without a year and a day (of the month with a month, or of
    /// the year) or with an unknown `%` conversion is refused.
    public init(_ pattern: String) throws {
        var pieces: [Piece] = []
        var chars = pattern.makeIterator()
        func invalid(_ reason: String) -> VaultError {
            .invalidField([.dateFormat], "date_format \"\(ImportProblem.shown(pattern, 40))\" \(reason)")
        }
        while let c = chars.next() {
            guard c == "%" else {
                pieces.append(c == " " ? .space : .literal(c))
                continue
            }
            guard let code = chars.next() else { throw invalid("ends with a lone %") }
            switch code {
            case "Y": pieces.append(.year4)
            case "y": pieces.append(.year2)
            case "m": pieces.append(.month)
            case "d", "e": pieces.append(.day)
            case "b", "B", "h": pieces.append(.monthName)
            case "j": pieces.append(.dayOfYear)
            case "H", "I": pieces.append(.hour)
            case "M": pieces.append(.minute)
            case "S": pieces.append(.second)
            case "p": pieces.append(.ampm)
            case "%": pieces.append(.literal("%"))
            default: throw invalid("uses %\(code), which is not supported: use %Y %y %m %d %e %b %B %j %H %M %S %p %%")
            }
        }
        let hasYear = pieces.contains(.year4) || pieces.contains(.year2)
        let hasDay = (pieces.contains(.day) && (pieces.contains(.month) || pieces.contains(.monthName))) || pieces.contains(.dayOfYear)
        guard hasYear, hasDay else { throw invalid("needs a year (%Y or %y) and a day (%m or %b with %d, or %j)") }
        self.pieces = pieces
        description = pattern
    }

    static let monthNames = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]

    /// What a date cell holds for this pattern.
    enum Match: Equatable {
        case day(CalendarDate)
        case noMatch
        /// It matches, but names no real day (`31/02/24`).
        case noSuchDay
    }

    /// The day `text` names under this pattern.
    func match(_ text: String) -> Match {
        guard let fields = fields(text) else { return .noMatch }
        guard let year = fields.year else { return .noMatch }
        if let dayOfYear = fields.dayOfYear {
            guard (1...(CalendarDate.daysIn(month: 2, year: year) == 29 ? 366 : 365)).contains(dayOfYear) else { return .noSuchDay }
            var remaining = dayOfYear, month = 1
            while remaining > CalendarDate.daysIn(month: month, year: year) {
                remaining -= CalendarDate.daysIn(month: month, year: year)
                month += 1
            }
            return CalendarDate(year: year, month: month, day: remaining).map(Match.day) ?? .noSuchDay
        }
        guard let month = fields.month, let day = fields.day else { return .noMatch }
        return CalendarDate(year: year, month: month, day: day).map(Match.day) ?? .noSuchDay
    }

    /// The numbers `text` gives for the pattern's pieces, or nil when it does not match.
    private func fields(_ text: String) -> (year: Int?, month: Int?, day: Int?, dayOfYear: Int?)? {
        let chars = Array(text.trimmingCharacters(in: .whitespaces))
        var i = 0
        var year: Int?, month: Int?, day: Int?, dayOfYear: Int?
        func digits(min: Int, max: Int, allowSpace: Bool = false) -> Int? {
            if allowSpace, i < chars.count, chars[i] == " " { i += 1 }
            var value = 0, count = 0
            while count < max, i < chars.count, chars[i].isASCII, let digit = chars[i].wholeNumberValue {
                value = value * 10 + digit
                count += 1
                i += 1
            }
            return count >= min ? value : nil
        }
        for (n, piece) in pieces.enumerated() {
            switch piece {
            case .year4:
                guard let value = digits(min: 4, max: 4) else { return nil }
                year = value
            case .year2:
                guard let value = digits(min: 2, max: 2) else { return nil }
                year = value < 69 ? 2000 + value : 1900 + value
            case .month:
                guard let value = digits(min: 1, max: 2) else { return nil }
                month = value
            case .day:
                guard let value = digits(min: 1, max: 2, allowSpace: true) else { return nil }
                day = value
            case .dayOfYear:
                guard let value = digits(min: 1, max: 3) else { return nil }
                dayOfYear = value
            case .hour:
                guard let value = digits(min: 1, max: 2), value <= 24 else { return nil }
            case .minute:
                guard let value = digits(min: 2, max: 2), value <= 59 else { return nil }
            case .second:
                guard let value = digits(min: 2, max: 2), value <= 60 else { return nil }
            case .ampm:
                guard i + 2 <= chars.count, ["am", "pm"].contains(String(chars[i..<i + 2]).lowercased()) else { return nil }
                i += 2
            case .monthName:
                var letters = ""
                while i < chars.count, chars[i].isLetter {
                    letters.append(chars[i])
                    i += 1
                }
                // `Mar.` and `May` in one file: a dot after an abbreviation is part of it.
                if i < chars.count, chars[i] == ".", letters.count < 5, n + 1 == pieces.count || pieces[n + 1] != .literal(".") { i += 1 }
                let lower = letters.lowercased()
                guard lower.count >= 3,
                    let index = Self.monthNames.firstIndex(where: { $0 == lower || $0.prefix(3) == lower || (lower == "sept" && $0 == "september") })
                else { return nil }
                month = index + 1
            case .space:
                guard i < chars.count, chars[i] == " " else { return nil }
                while i < chars.count, chars[i] == " " { i += 1 }
            case .literal(let c):
                guard i < chars.count, chars[i] == c else { return nil }
                i += 1
            }
        }
        guard i == chars.count else { return nil }
        return (year, month, day, dayOfYear)
    }
}
