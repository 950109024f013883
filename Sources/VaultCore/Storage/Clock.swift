public import Foundation

/// The source of "now", injected so expiry is tested without sleeping.
public typealias VaultClock = @Sendable () -> Date

/// Milliseconds since the Unix epoch, as stored in the vault.
public enum Millis {
    public static func from(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    public static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}

/// ISO 8601 in UTC, to the second (`2026-11-23T06:13:48Z`).
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    public static func string(millis: Int64) -> String { string(Millis.date(millis)) }
}
