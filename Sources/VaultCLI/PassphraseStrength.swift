import VaultCrypto

/// Refuses passphrases that are easy to guess at `vrm init` and `vrm passphrase change`
/// (unless `--allow-weak`): too short, too repetitive, or in a small list of the most common
/// ones. The bytes are read in place; the passphrase never becomes a `String`.
enum PassphraseStrength {
    static let minimumCharacters = 10
    static let minimumDistinct = 5

    /// Common passwords and phrases of at least `minimumCharacters` characters that the other
    /// rules (length, distinct characters, digits alone, a common word with digits) let
    /// through, compared lower-cased.
    static let common: Set<[UInt8]> = Set(
        [
            "1q2w3e4r5t", "1q2w3e4r5t6y", "1qaz2wsx3edc", "qazwsxedcrfv", "zaq12wsxcde", "qwertyuiop", "asdfghjkl;", "abcdefghij",
            "abcd1234abcd", "abc123abc123", "administrator", "correct horse battery staple", "correcthorsebatterystaple", "my passphrase",
            "mypassphrase", "this is my password", "thisismypassword", "open sesame", "opensesame123", "vault passphrase", "vaultpassword",
            "secretpassword", "supersecret123",
        ].map { Array($0.utf8) })

    /// Common words that digits or symbols around them do not make strong.
    static let commonWords: Set<[UInt8]> = Set(
        [
            "password", "passw0rd", "passwort", "qwerty", "qwertz", "azerty", "letmein", "welcome", "iloveyou", "admin", "monkey", "dragon",
            "sunshine", "princess", "football", "baseball", "superman", "batman", "trustno", "changeme", "secret", "master", "vault",
            "login", "abc", "abcdef", "shadow", "michael", "jennifer", "hello", "freedom", "whatever", "starwars", "pokemon",
        ].map { Array($0.utf8) })

    /// Why `passphrase` is weak, or nil when it is acceptable. Works on the bytes in place:
    /// the only copy, lower-cased for the list look-ups, is wiped before returning.
    static func weakness(_ passphrase: SecretKey) -> String? {
        passphrase.withUnsafeBytes { raw -> String? in
            // Characters: UTF-8 bytes that do not continue a sequence.
            let characters = raw.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
            if characters < minimumCharacters { return "it is shorter than \(minimumCharacters) characters" }
            var seen = [Bool](repeating: false, count: 256)
            defer { for i in seen.indices { seen[i] = false } }
            var distinct = 0
            for byte in raw where !seen[Int(byte)] {
                seen[Int(byte)] = true
                distinct += 1
            }
            if distinct < minimumDistinct { return "it repeats too few different characters" }
            let isLetter: (UInt8) -> Bool = { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
            if !raw.contains(where: isLetter), raw.allSatisfy({ $0 < 0x80 }) { return "it has no letters" }
            var lowered = raw.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
            defer { Wipe.bytes(&lowered) }
            if common.contains(lowered) { return "it is one of the most common passwords" }
            // A common word with digits or symbols around it (`Password123!`).
            guard let first = lowered.firstIndex(where: isLetter), let last = lowered.lastIndex(where: isLetter) else { return nil }
            if commonWords.contains(where: { $0.count == last - first + 1 && $0.elementsEqual(lowered[first...last]) }) {
                return "it is a common word with digits or symbols added"
            }
            return nil
        }
    }

    /// Throws a usage error for a weak passphrase unless `allowWeak`.
    static func check(_ passphrase: SecretKey, allowWeak: Bool) throws {
        guard !allowWeak, let reason = weakness(passphrase) else { return }
        throw CLIError.usage(
            "the passphrase is too weak: \(reason). Choose a longer one (four or five unrelated words work well), or pass --allow-weak; nothing was changed")
    }
}
