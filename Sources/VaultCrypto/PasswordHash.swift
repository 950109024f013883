internal import CSodium

/// Argon2id cost parameters as stored in the vault header.
public struct KDFParameters: Sendable, Equatable, Hashable {
    /// Argon2id passes (`crypto_pwhash` opslimit).
    public var opsLimit: UInt64
    /// Argon2id memory in bytes (`crypto_pwhash` memlimit).
    public var memLimit: UInt64

    public init(opsLimit: UInt64, memLimit: UInt64) {
        self.opsLimit = opsLimit
        self.memLimit = memLimit
    }

    /// libsodium's INTERACTIVE limits (2 passes, 64 MiB).
    public static let interactive = KDFParameters(opsLimit: 2, memLimit: 64 << 20)
    /// libsodium's MODERATE limits (3 passes, 256 MiB).
    public static let moderate = KDFParameters(opsLimit: 3, memLimit: 256 << 20)
    /// libsodium's SENSITIVE limits (4 passes, 1 GiB).
    public static let sensitive = KDFParameters(opsLimit: 4, memLimit: 1 << 30)
    /// The cheapest accepted setting; for tests only, never offered by the CLI.
    public static let minimumForTests = KDFParameters(opsLimit: 1, memLimit: 8 << 10)

    /// Accepted bounds: opslimit 1...16, memlimit 8 KiB...2 GiB.
    public static let opsRange: ClosedRange<UInt64> = 1...16
    public static let memRange: ClosedRange<UInt64> = (8 << 10)...(2 << 30)

    /// Throws `kdfParametersOutOfRange` for values no honest vault would hold.
    public func validate() throws {
        guard Self.opsRange.contains(opsLimit), Self.memRange.contains(memLimit) else {
            throw CryptoError.kdfParametersOutOfRange
        }
    }
}

/// Passphrase → key-encryption key with Argon2id (`crypto_pwhash`).
public enum PasswordHash {
    public static let saltBytes = Int(crypto_pwhash_SALTBYTES)

    /// Derives a 32-byte key. Parameters are validated before any hashing.
    public static func deriveKey(passphrase: SecretKey, salt: [UInt8], parameters: KDFParameters) throws -> SecretKey {
        Sodium.ensureReady()
        try parameters.validate()
        guard salt.count == saltBytes else { throw CryptoError.invalidLength("salt") }
        let key = try SecretKey(zeroedCount: 32)
        let rc = crypto_pwhash(
            key.bytes, UInt64(key.count),
            UnsafeRawPointer(passphrase.bytes).assumingMemoryBound(to: CChar.self), UInt64(passphrase.count),
            salt, parameters.opsLimit, Int(parameters.memLimit), crypto_pwhash_ALG_ARGON2ID13)
        guard rc == 0 else { throw CryptoError.outOfMemory }
        return key
    }
}
