import VaultCrypto

/// Refuses passphrases that are easy to guess at `vrm init` and `vrm passphrase change`
/// (unless `--allow-weak`): too short, too repetitive, or in a small list of the most common
/// ones. The bytes are read in place; the passphrase never becomes a `String`.
enum PassphraseStrength {
    static let minimumCharacters = 10
    static let minimumDistinct = 5

    /// Common passwords and phrases of at least `minimumCharacters` characters (shorter ones
    /// fail on length), compared lower-cased.
    static let common: Set<[UInt8]> = Set(
        [
            "password123", "password1234", "password12345", "passw0rd123", "1234567890", "12345678910", "123456789a", "0987654321",
            "qwertyuiop", "qwerty123456", "qwerty12345", "1q2w3e4r5t", "1q2w3e4r5t6y", "1qaz2wsx3edc", "qazwsxedcrfv", "zaq12wsxcde",
            "asdfghjkl;", "asdfghjkl123", "iloveyou123", "iloveyou1234", "princess123", "sunshine123", "football123", "baseball123",
            "superman123", "letmein123", "letmein1234", "welcome123", "welcome1234", "changeme123", "administrator", "trustno1234",
            "abcdefghij", "abcd1234abcd", "abc123abc123", "1111111111", "correct horse battery staple", "correcthorsebatterystaple",
            "my passphrase", "mypassphrase", "this is my password", "thisismypassword", "open sesame", "opensesame123",
            "vault passphrase", "vaultpassword", "secretpassword", "supersecret123", "monkey123456", "dragon123456",
        ].map { Array($0.utf8) })

    /// Common words that digits or symbols around them do not make strong.
    static let commonWords: Set<[UInt8]> = Set(
        [
            "password", "passw0rd", "passwort", "qwerty", "qwertz", "azerty", "letmein", "welcome", "iloveyou", "admin", "monkey", "dragon",
            "sunshine", "princess", "football", "baseball", "superman", "batman", "trustno", "changeme", "secret", "master", "vault",
            "login", "abc", "abcdef", "shadow", "michael", "jennifer", "hello", "freedom", "whatever", "starwars", "pokemon",
        ].map { Array($0.utf8) })

    /// Why `passphrase` is weak, or nil when it is acceptable.
    static func weakness(_ passphrase: SecretKey) -> String? {
        passphrase.withUnsafeBytes { raw -> String? in
            // Characters: UTF-8 bytes that do not continue a sequence.
            let characters = raw.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
            if characters < minimumCharacters { return "it is shorter than \(minimumCharacters) characters" }
            var seen = Set<UInt8>()
            for byte in raw { seen.insert(byte) }
            if seen.count < minimumDistinct { return "it repeats too few different characters" }
            var lowered = raw.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
            defer { Wipe.bytes(&lowered) }
            if common.contains(lowered) { return "it is one of the most common passwords" }
            // A common word with digits or symbols around it (`Password123!`), or digits alone.
            let letters = lowered.filter { (0x61...0x7A).contains($0) }
            if letters.isEmpty, lowered.allSatisfy({ $0 < 0x80 }) { return "it has no letters" }
            let core = lowered.drop { !(0x61...0x7A).contains($0) }.reversed().drop { !(0x61...0x7A).contains($0) }.reversed()
            if commonWords.contains(Array(core)) { return "it is a common word with digits or symbols added" }
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
