import Foundation

/// Terminal-aware output: tables and emphasis on a terminal, plain text otherwise; `NO_COLOR` respected.
enum Terminal {
    static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stdinIsTTY: Bool { isatty(STDIN_FILENO) == 1 }
    static var colour: Bool {
        stdoutIsTTY && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }

    static func bold(_ text: String) -> String { colour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    static func dim(_ text: String) -> String { colour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    /// A left-aligned table with a header row.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([bold(line(header))] + rows.map(line)).joined(separator: "\n")
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
        // Foundation pretty-prints an empty array as "[\n\n]".
        return text.filter { !$0.isWhitespace } == "[]" ? "[]" : text
    }
}
