/// One thing wrong with an import file: where (`line 7`, `entry 3`, `order 2, item 1`, with
/// the file's name first when a folder is read), which field (`column "Order Date"`,
/// `key "orderDate"`, `element DTPOSTED`), and what.
public struct ImportProblem: Sendable, Equatable, CustomStringConvertible {
    /// Where in the file; empty for a problem of no one row (a `--vendor` nobody knows).
    public var location: String
    /// The field as the file names it, if the problem is one field's.
    public var field: String?
    public var message: String
    /// The row's place in the file, so problems print in file order.
    var ordinal: Int

    /// `line 7, column "Order Date": invalid date "31/02/24": …`.
    public var description: String {
        let place = [location.isEmpty ? nil : location, field].compactMap { $0 }.joined(separator: ", ")
        return place.isEmpty ? message : "\(place): \(message)"
    }

    /// How many problems an error lists before "… and N more".
    public static let listed = 50

    /// Text from a file as a message quotes it: at most `limit` characters (then `…`), and
    /// control characters (line breaks, escape sequences, bidirectional overrides) shown as
    /// `?`, so a file cannot write lines or terminal commands of its own into an error.
    public static func shown(_ text: String, _ limit: Int) -> String {
        var out = String.UnicodeScalarView()
        var count = 0
        for character in text {
            if count == limit {
                out.append("…")
                break
            }
            for scalar in character.unicodeScalars { out.append(isUnsafe(scalar) ? "?" : scalar) }
            count += 1
        }
        return String(out)
    }

    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// The error for a file with these problems: one problem on one line, several as a count
    /// and an indented list in file order (at most `listed`, then `… and N more`). Flag
    /// placeholders (`default_vendor`, …) are named as the error's fields, for the CLI to swap.
    static func rejection(_ problems: [ImportProblem]) -> VaultError {
        let sorted = problems.enumerated().sorted { ($0.element.ordinal, $0.offset) < ($1.element.ordinal, $1.offset) }.map(\.element)
        var text: String
        if sorted.count == 1, let only = sorted.first {
            text = only.description
        } else {
            text = "\(sorted.count) problems; nothing was imported:"
            for problem in sorted.prefix(listed) { text += "\n  " + problem.description }
            if sorted.count > listed { text += "\n  … and \(sorted.count - listed) more" }
        }
        return .invalidField(VaultField.importOptions.filter { text.contains($0.rawValue) }, text)
    }
}
