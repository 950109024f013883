public import Foundation

/// The source of "now", injected so expiry is tested without sleeping.
public typealias VaultClock = @Sendable () -> Date

/// Milliseconds since the Unix epoch, as stored in the vault.
public enum Millis {
    /// The date in milliseconds, clamped to what an `Int64` holds (a date read from a tampered
    /// vault may lie beyond it).
    public static func from(_ date: Date) -> Int64 {
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        guard !millis.isNaN else { return 0 }
        if millis >= 9_223_372_036_854_775_807.0 { return .max }
        if millis <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(millis)
    }
    public static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}

/// ISO 8601 in UTC, to the second (`2026-11-23T06:13:48Z`).
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    public static func string(millis: Int64) -> String { string(Millis.date(millis)) }

    /// The instant a `string` names, or nil for anything else.
    public static func parse(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle().parse(text)
    }
}

extension FixedWidthInteger {
    /// `self + other`, held at the type's bounds instead of trapping: times and counts read
    /// from a file someone else can write may be anything.
    public func saturatingAdd(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, held at the type's bounds.
    public func saturatingSubtract(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }

    /// `self * other`, held at the type's bounds.
    public func saturatingMultiply(_ other: Self) -> Self {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }
}
