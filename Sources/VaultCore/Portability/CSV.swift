/// A small RFC 4180 reader and writer: comma-separated (the reader takes another separator,
/// such as `;` or a tab), `"` quoting with `""` escapes, LF or CRLF line ends, line breaks
/// allowed inside quotes. Records carry their first line number.
public enum CSV {
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unterminatedQuote(line: Int)
        case strayQuote(line: Int)

        public var description: String {
            switch self {
            case .unterminatedQuote(let line): "line \(line): a quoted field is never closed"
            case .strayQuote(let line): "line \(line): a quote inside an unquoted field (quote the whole field and double the quote)"
            }
        }
    }

    /// Parses `text` into records, fields split at `delimiter`; blank lines are skipped.
    public static func parse(_ text: String, delimiter: Unicode.Scalar = ",") throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var fieldWasQuoted = false
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            field = ""
            fieldWasQuoted = false
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case delimiter:
                    fields.append(field)
                    field = ""
                    fieldWasQuoted = false
                case "\r":
                    break
                case "\n":
                    endRecord()
                    line += 1
                    recordLine = line
                case "\"":
                    guard field.isEmpty, !fieldWasQuoted else { throw ParseError.strayQuote(line: line) }
                    inQuotes = true
                    fieldWasQuoted = true
                default:
                    if fieldWasQuoted { throw ParseError.strayQuote(line: line) }
                    field.unicodeScalars.append(c)
                }
            }
            i += 1
        }
        if inQuotes { throw ParseError.unterminatedQuote(line: recordLine) }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }

    /// One CSV line (without the line end), quoting fields that need it.
    public static func line(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                : f
        }.joined(separator: ",")
    }
}
