import Foundation
import VaultCore

/// Parses `--expires` and `--since` values.
enum TimeParsing {
    /// `30d`, `12h`, `45m`, `2w`, `1y`, a date `2026-12-31` (end of that day, UTC), or an ISO 8601 time.
    static func expiry(_ text: String, now: Date) throws -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "never" { return nil }
        if let seconds = duration(t) {
            return now.addingTimeInterval(seconds)
        }
        if let date = date(t) {
            // A bare date means the end of that day.
            return t.count == 10 ? date.addingTimeInterval(86_400 - 1) : date
        }
        throw CLIError.usage(
            "cannot read the expiry \"\(text.prefix(40))\": use a duration (30d, 12h, 2w, 1y), a date (2026-12-31), an ISO 8601 time, or `never`")
    }

    /// `--since`: a date, an ISO 8601 time, or a duration back from now (`7d`).
    static func since(_ text: String, now: Date) throws -> Date {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let seconds = duration(t) { return now.addingTimeInterval(-seconds) }
        if let date = date(t) { return date }
        throw CLIError.usage("cannot read the date \"\(text.prefix(40))\": use 2026-11-01, an ISO 8601 time, or a duration back from now (7d)")
    }

    static func duration(_ t: String) -> TimeInterval? {
        guard let unit = t.last, let count = Int(t.dropLast()), count > 0, count < 100_000 else { return nil }
        let seconds: TimeInterval
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        case "w": seconds = 7 * 86_400
        case "y": seconds = 365 * 86_400
        default: return nil
        }
        return Double(count) * seconds
    }

    static func date(_ t: String) -> Date? {
        if t.count == 10, let d = try? Date(t + "T00:00:00Z", strategy: .iso8601) { return d }
        return try? Date(t.uppercased(), strategy: .iso8601)
    }

    /// "2026-12-23T10:00:00Z (in 30 days)".
    static func describe(_ date: Date?, now: Date) -> String {
        guard let date else { return "never" }
        let seconds = date.timeIntervalSince(now)
        let days = Int((abs(seconds) / 86_400).rounded())
        let hours = Int((abs(seconds) / 3600).rounded())
        let minutes = Int((abs(seconds) / 60).rounded())
        let relative =
            days >= 1
            ? "\(days) day\(days == 1 ? "" : "s")" : hours >= 1 ? "\(hours) h" : minutes >= 1 ? "\(minutes) min" : "\(Int(abs(seconds).rounded())) s"
        return Terminal.time(date) + (seconds >= 0 ? " (in \(relative))" : " (\(relative) ago)")
    }
}
