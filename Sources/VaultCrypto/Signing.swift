internal import CSodium

/// An Ed25519 key pair; the secret half lives in secure memory.
public struct SigningKeyPair: Sendable {
    public static let publicKeyBytes = Int(crypto_sign_PUBLICKEYBYTES)
    public static let secretKeyBytes = Int(crypto_sign_SECRETKEYBYTES)
    public static let signatureBytes = Int(crypto_sign_BYTES)

    public let publicKey: [UInt8]
    public let secretKey: SecretKey

    /// A new random key pair.
    public static func generate() throws -> SigningKeyPair {
        Sodium.ensureReady()
        var pk = [UInt8](repeating: 0, count: publicKeyBytes)
        let sk = try SecretKey(zeroedCount: secretKeyBytes)
        _ = crypto_sign_keypair(&pk, sk.bytes)
        return SigningKeyPair(publicKey: pk, secretKey: sk)
    }

    /// Rebuilds the pair from the 64-byte libsodium secret key (which embeds the public key).
    public init(secretKey: SecretKey) throws {
        guard secretKey.count == Self.secretKeyBytes else { throw CryptoError.invalidLength("Ed25519 secret key") }
        let pk = secretKey.withUnsafeBytes { Array($0[32..<64]) }
        self.init(publicKey: pk, secretKey: secretKey)
    }

    init(publicKey: [UInt8], secretKey: SecretKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A detached signature over `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: Self.signatureBytes)
        _ = crypto_sign_detached(&sig, nil, message, UInt64(message.count), secretKey.bytes)
        return sig
    }
}

/// Ed25519 verification.
public enum Signature {
    /// True when `signature` is `publicKey`'s signature over `message`.
    public static func verify(_ signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        Sodium.ensureReady()
        guard signature.count == SigningKeyPair.signatureBytes, publicKey.count == SigningKeyPair.publicKeyBytes else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }
}

/// SHA-256 (libsodium `crypto_hash_sha256`): only where a standard names it, such as the JWK
/// thumbprint (RFC 7638) that is a share key's `kid`.
public enum SHA256 {
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = crypto_hash_sha256(&out, bytes, UInt64(bytes.count))
        return out
    }
}
