import Foundation
import VaultCore

/// The share version as an HTTP entity tag (`"v3"`), and `If-None-Match` read as the versions
/// a vendor holds. The version is the redemption's; its spelling on the wire is HTTP's.
enum ETag {
    /// The ETag for a share version.
    static func text(version: Int) -> String { "\"v\(version)\"" }

    /// The versions an `If-None-Match` value names: `*` is any version; each `"vN"` (weak or
    /// strong, comma-separated) names version N; anything else names nothing. nil for no header.
    static func held(_ ifNoneMatch: String?) -> HeldVersions? {
        guard let ifNoneMatch else { return nil }
        var versions = Set<Int>()
        for raw in ifNoneMatch.split(separator: ",") {
            // Trimmed as the code before ETag was split out trimmed it (`.whitespaces`: space, tab
            // and Unicode's other horizontal spaces), so a condition matches as it always did.
            var tag = Substring(raw.trimmingCharacters(in: .whitespaces))
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag == "*" { return .any }
            if let version = version(tag) { versions.insert(version) }
        }
        return .versions(versions)
    }

    /// N for exactly `"vN"` with N written as `text(version:)` writes it (no sign, no leading zero).
    private static func version(_ tag: Substring) -> Int? {
        guard tag.count >= 4, tag.hasPrefix("\"v"), tag.hasSuffix("\"") else { return nil }
        let digits = tag.dropFirst(2).dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let version = Int(digits), text(version: version) == String(tag) else { return nil }
        return version
    }
}
