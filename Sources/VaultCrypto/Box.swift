internal import CSodium
import Synchronization

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

    /// Seals under a fresh random nonce.
    public func seal(_ message: [UInt8]) -> [UInt8] {
        seal(message) { nonce in
            guard let base = nonce.baseAddress else { return }
            randombytes_buf(base, nonce.count)
        }
    }

    /// Seals under the next nonce of `nonces`, which must belong to this box alone (a nonce may
    /// never repeat under one shared key). Saves the random-number system call per message.
    public func seal(_ message: [UInt8], nonces: NonceSequence) -> [UInt8] {
        seal(message) { nonces.next(into: $0) }
    }

    private func seal(_ message: [UInt8], nonce: (UnsafeMutableBufferPointer<UInt8>) -> Void) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.nonceBytes + Self.macBytes + message.count)
        out.withUnsafeMutableBufferPointer { o in
            guard let base = o.baseAddress else { return }
            nonce(UnsafeMutableBufferPointer(rebasing: o[0..<Self.nonceBytes]))
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

/// 24-byte nonces that never repeat within one sequence: a random 16-byte prefix chosen when the
/// sequence is made, then a 64-bit big-endian counter. Use one sequence per key, for a key that
/// lives only as long as the sequence (like an audit writer's ephemeral box key).
public final class NonceSequence: Sendable {
    static let prefixBytes = 16
    private let prefix: [UInt8]
    private let counter = Atomic<UInt64>(0)

    public init() {
        prefix = Random.bytes(Self.prefixBytes)
    }

    /// Writes the next nonce into the first 24 bytes of `out`.
    public func next(into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(out.count >= Self.prefixBytes + 8, "a nonce is 24 bytes")
        let (value, _) = counter.add(1, ordering: .relaxed)
        for i in 0..<Self.prefixBytes { out[i] = prefix[i] }
        withUnsafeBytes(of: value.bigEndian) { bytes in
            for i in 0..<8 { out[Self.prefixBytes + i] = bytes[i] }
        }
    }
}
