import Foundation
import Synchronization
import VaultCore

/// Terminal-aware output: tables and emphasis on a terminal, plain text otherwise; `NO_COLOR` respected.
enum Terminal {
    static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stdinIsTTY: Bool { isatty(STDIN_FILENO) == 1 }
    static var colour: Bool {
        stdoutIsTTY && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }

    static func bold(_ text: String) -> String { colour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    static func dim(_ text: String) -> String { colour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    /// Columns of free text, which a table may cut to fit; every other column (ids, names
    /// typed back in, dates, times, amounts, counts) is always shown whole.
    static let freeText: Set<String> = ["ITEM", "SCOPES", "CAN READ", "SUBJECT", "DETAIL", "NOTES", "SITE", "VALUE", "SPEND"]

    /// A left-aligned table with a header row. On a terminal it fits the window's width
    /// (`COLUMNS`, else the terminal's) by cutting free-text columns (`freeText`), with `…`,
    /// down to 8 characters each; when that is not enough the lines are left longer. Piped
    /// output is never cut.
    static func table(_ header: [String], _ rows: [[String]], width: Int? = nil) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        if let limit = width ?? (stdoutIsTTY ? columns : nil) {
            let minimum = header.enumerated().map { i, name in freeText.contains(name) ? min(widths[i], max(8, name.count)) : widths[i] }
            var total = widths.reduce(0, +) + 2 * max(0, widths.count - 1)
            // The last column (free text) gives way first, then the widest of the others.
            let last = widths.count - 1
            for (floor, onlyLast) in [(16, true), (16, false), (10, true), (0, false)] {
                while total > limit {
                    let candidates = widths.indices.filter { (!onlyLast || $0 == last) && widths[$0] > max(minimum[$0], floor) }
                    guard let widest = candidates.max(by: { widths[$0] < widths[$1] }) else { break }
                    widths[widest] -= 1
                    total -= 1
                }
            }
        }
        func cut(_ cell: String, _ width: Int) -> String {
            cell.count <= width ? cell : String(cell.prefix(max(0, width - 1))) + "…"
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                guard i < widths.count else { return cell }
                let fitted = cut(cell, widths[i])
                return i == cells.count - 1 ? fitted : fitted.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([bold(line(header))] + rows.map(line)).joined(separator: "\n")
    }

    /// The terminal's width: `COLUMNS`, else the window size of standard output, else 80.
    static var columns: Int {
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let value = Int(text), value > 20 { return value }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 80
    }

    /// Times for people: local time to the minute on a terminal (`2026-12-01 09:30`), ISO 8601
    /// UTC otherwise and with `--utc`, so piped output stays exact and zone-free.
    static func time(_ date: Date) -> String {
        guard stdoutIsTTY, !TimeDisplay.utc else { return Timestamp.string(date) }
        let local = date.formatted(
            Date.VerbatimFormatStyle(
                format:
                    "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)",
                timeZone: .current, calendar: Calendar(identifier: .gregorian)))
        return local + (TimeZone.current.abbreviation(for: date).map { " " + $0 } ?? "")
    }

    /// A time in a table cell: on a terminal, local `12-31 09:30` within this year, else
    /// `2027-01-05`; ISO 8601 UTC when piped or with `--utc`.
    static func shortTime(_ date: Date) -> String {
        guard stdoutIsTTY, !TimeDisplay.utc else { return Timestamp.string(date) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        let style: Date.VerbatimFormatStyle
        if calendar.component(.year, from: date) == calendar.component(.year, from: Date()) {
            style = Date.VerbatimFormatStyle(
                format: "\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)",
                timeZone: .current, calendar: calendar)
        } else {
            style = Date.VerbatimFormatStyle(format: "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits)", timeZone: .current, calendar: calendar)
        }
        return date.formatted(style)
    }

    /// Writes a note to standard error.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Asks yes/no on the terminal; false on anything but y/yes.
    static func confirm(_ question: String) -> Bool {
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        guard let answer = readLine() else { return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// A removal goes ahead with `--yes`, or when the user says yes on a terminal; without a
    /// terminal and without `--yes` it is refused (exit 2), so a script never deletes by accident.
    static func confirmRemoval(_ question: String, yes: Bool) throws {
        if yes { return }
        guard stdinIsTTY else { throw CLIError.usage("refusing to remove without confirmation (no terminal to ask on): pass --yes") }
        guard confirm(question) else { throw CLIError.cancelled }
    }

    /// Prints `value` as JSON with `--json`, else `text`.
    static func report<T: Encodable>(_ output: OutputOptions, _ value: @autoclosure () throws -> T, text: @autoclosure () -> String) throws {
        if output.json { print(try json(value())) } else { print(text()) }
    }

    /// Pretty, key-sorted JSON of an encodable value.
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let text = String(decoding: try encoder.encode(value), as: UTF8.self)
        // Foundation pretty-prints an empty array as "[", a blank line, "]". A line break inside
        // a JSON string is always escaped, so these breaks are the printer's own.
        return text.replacing(/\[\n\s*\n\s*\]/, with: "[]")
    }
}

/// `--utc`, set while the options are parsed (`OutputOptions.validate`).
enum TimeDisplay {
    private static let flag = Mutex(false)
    static var utc: Bool {
        get { flag.withLock { $0 } }
        set { flag.withLock { $0 = newValue } }
    }
}
