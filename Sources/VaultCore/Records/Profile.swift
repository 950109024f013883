import Foundation

/// Profile keys: dotted names of `[a-z0-9._-]`, e.g. `email`, `address.shipping`, `size.shoe`.
public enum ProfileKey {
    public static let maxLength = 64
    public static let maxValueBytes = 64 * 1024
    /// Well-known keys, shown in help text; any key of the allowed alphabet works.
    public static let wellKnown = ["name", "email", "phone", "address.shipping", "address.billing", "birthday", "size.shoe", "preference.contact"]

    /// Throws `invalidInput` for keys outside the alphabet or shape.
    public static func validate(_ key: String) throws {
        let allowed = key.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x5F || c == 0x2D
        }
        guard !key.isEmpty, key.utf8.count <= maxLength, allowed,
            !key.hasPrefix("."), !key.hasSuffix("."), !key.contains("..")
        else {
            throw VaultError.invalidInput(
                "invalid profile key \"\(key.prefix(maxLength))\": use 1-\(maxLength) characters of a-z 0-9 . _ - (e.g. email, address.shipping)")
        }
    }
}

struct ProfileEntryPayload: Codable {
    var key: String
    var value: String
}
