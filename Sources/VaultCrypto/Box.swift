internal import CSodium

/// An X25519 key pair for sealed boxes; the secret half lives in secure memory.
public struct BoxKeyPair: Sendable {
    public static let publicKeyBytes = Int(crypto_box_PUBLICKEYBYTES)
    public static let secretKeyBytes = Int(crypto_box_SECRETKEYBYTES)

    public let publicKey: [UInt8]
    public let secretKey: SecretKey

    /// A new random key pair.
    public static func generate() throws -> BoxKeyPair {
        Sodium.ensureReady()
        var pk = [UInt8](repeating: 0, count: publicKeyBytes)
        let sk = try SecretKey(zeroedCount: secretKeyBytes)
        _ = crypto_box_keypair(&pk, sk.bytes)
        return BoxKeyPair(publicKey: pk, secretKey: sk)
    }

    /// Rebuilds a key pair from its secret half (the public half is recomputed).
    public init(secretKey: SecretKey) throws {
        Sodium.ensureReady()
        guard secretKey.count == Self.secretKeyBytes else { throw CryptoError.invalidLength("X25519 secret key") }
        var pk = [UInt8](repeating: 0, count: Self.publicKeyBytes)
        let rc = crypto_scalarmult_base(&pk, secretKey.bytes)
        guard rc == 0 else { throw CryptoError.invalidLength("X25519 secret key") }
        self.init(publicKey: pk, secretKey: secretKey)
    }

    init(publicKey: [UInt8], secretKey: SecretKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }
}

/// Anonymous sealed boxes (`crypto_box_seal`): only the recipient's secret key opens them.
public enum SealedBox {
    public static let overhead = Int(crypto_box_sealbytes())

    public static func seal(_ message: [UInt8], to publicKey: [UInt8]) throws -> [UInt8] {
        Sodium.ensureReady()
        guard publicKey.count == BoxKeyPair.publicKeyBytes else { throw CryptoError.invalidLength("X25519 public key") }
        var out = [UInt8](repeating: 0, count: message.count + overhead)
        let rc = crypto_box_seal(&out, message, UInt64(message.count), publicKey)
        guard rc == 0 else { throw CryptoError.invalidLength("X25519 public key") }
        return out
    }

    public static func open(_ box: [UInt8], keyPair: BoxKeyPair) throws -> [UInt8] {
        Sodium.ensureReady()
        guard box.count >= overhead else { throw CryptoError.authenticationFailed }
        var out = [UInt8](repeating: 0, count: box.count - overhead)
        let rc = crypto_box_seal_open(&out, box, UInt64(box.count), keyPair.publicKey, keyPair.secretKey.bytes)
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        return out
    }
}

/// A precomputed `crypto_box` shared key (`crypto_box_beforenm`): one public-key operation,
/// then symmetric XSalsa20-Poly1305 per message. Boxes are `nonce(24) ‖ mac ‖ ciphertext`.
public struct PrecomputedBox: Sendable {
    static let nonceBytes = Int(crypto_box_NONCEBYTES)
    static let macBytes = Int(crypto_box_MACBYTES)
    private let shared: SecretKey

    /// Shares a key between `secretKey`'s owner and `publicKey`'s owner.
    public init(publicKey: [UInt8], secretKey: SecretKey) throws {
        Sodium.ensureReady()
        guard publicKey.count == BoxKeyPair.publicKeyBytes, secretKey.count == BoxKeyPair.secretKeyBytes else {
            throw CryptoError.invalidLength("X25519 key")
        }
        let shared = try SecretKey(zeroedCount: Int(crypto_box_BEFORENMBYTES))
        let rc = crypto_box_beforenm(shared.bytes, publicKey, secretKey.bytes)
        guard rc == 0 else { throw CryptoError.invalidLength("X25519 public key") }
        self.shared = shared
    }

    public func seal(_ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.nonceBytes + Self.macBytes + message.count)
        out.withUnsafeMutableBufferPointer { o in
            guard let base = o.baseAddress else { return }
            randombytes_buf(base, Self.nonceBytes)
            _ = crypto_box_easy_afternm(base + Self.nonceBytes, message, UInt64(message.count), base, shared.bytes)
        }
        return out
    }

    public func open(_ box: [UInt8]) throws -> [UInt8] {
        guard box.count >= Self.nonceBytes + Self.macBytes else { throw CryptoError.authenticationFailed }
        var out = [UInt8](repeating: 0, count: box.count - Self.nonceBytes - Self.macBytes)
        let rc = box.withUnsafeBufferPointer { b -> Int32 in
            guard let base = b.baseAddress else { return -1 }
            return crypto_box_open_easy_afternm(&out, base + Self.nonceBytes, UInt64(b.count - Self.nonceBytes), base, shared.bytes)
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        return out
    }
}
