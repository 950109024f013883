import Foundation
import VaultCore

/// HTML text built by hand: every piece of data goes through `HTML.text` (or `attr`), so a
/// vendor named `<script>` or a profile value with a bidirectional override is shown as
/// inert characters, never markup. The pages carry no script and no inline style (the
/// Content-Security-Policy forbids both).
enum HTML {
    /// `text` escaped for an element's content or a quoted attribute value. Control
    /// characters, bidirectional overrides and invisible format characters (which could make
    /// one name look like another) are shown as U+FFFD.
    static func text(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t": out.unicodeScalars.append(scalar)
            default:
                let props = scalar.properties
                if props.generalCategory == .control || props.generalCategory == .format || props.isBidiControl {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A path segment or query value, percent-encoded (ids are checked before they get here).
    static func component(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A number as SVG wants it: at most two decimals, no exponent.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2f", rounded)
    }
}

/// Dates as the pages show them: UTC, to the minute, and as `YYYY-MM-DD` for days.
enum Shown {
    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date) + " UTC"
    }

    static func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }

    /// `<time datetime=…>` around the shown time.
    static func timeElement(_ date: Date, dayOnly: Bool = false) -> String {
        let iso = Timestamp.string(date)
        return "<time datetime=\"\(iso)\">\(dayOnly ? day(date) : time(date))</time>"
    }

    /// "in 3 days", "2 hours ago": how far `date` is from `now`, in the largest whole unit.
    static func relative(_ date: Date, now: Date) -> String {
        let seconds = date.timeIntervalSince(now)
        let magnitude = abs(seconds)
        let (count, unit): (Int, String) =
            magnitude >= 86_400
            ? (Int(magnitude / 86_400), "day")
            : magnitude >= 3600
                ? (Int(magnitude / 3600), "hour")
                : magnitude >= 60 ? (Int(magnitude / 60), "minute") : (Int(magnitude), "second")
        let words = "\(count) \(unit)\(count == 1 ? "" : "s")"
        return seconds >= 0 ? "in \(words)" : "\(words) ago"
    }
}
