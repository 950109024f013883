internal import CSodium

/// XChaCha20-Poly1305-IETF with associated data. Boxes are `nonce(24) ‖ ciphertext ‖ tag(16)`.
public enum AEAD {
    public static let keyBytes = 32
    public static let nonceBytes = 24
    public static let tagBytes = 16

    /// Encrypts `plaintext` under `key` with a fresh random nonce, binding `associatedData`.
    public static func seal(_ plaintext: [UInt8], key: SecretKey, associatedData: [UInt8]) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { try seal(raw: $0, key: key, associatedData: associatedData) }
    }

    /// Encrypts the bytes of a secret (e.g. a wrapped key).
    public static func seal(secret: SecretKey, key: SecretKey, associatedData: [UInt8]) throws -> [UInt8] {
        try secret.withUnsafeBytes { try seal(raw: $0, key: key, associatedData: associatedData) }
    }

    static func seal(raw plaintext: UnsafeRawBufferPointer, key: SecretKey, associatedData: [UInt8]) throws -> [UInt8] {
        Sodium.ensureReady()
        guard key.count == keyBytes else { throw CryptoError.invalidLength("AEAD key") }
        // Not zero-filled first: the nonce, the ciphertext and the tag cover every byte.
        return [UInt8](unsafeUninitializedCapacity: nonceBytes + plaintext.count + tagBytes) { o, initialized in
            guard let base = o.baseAddress else { return }
            randombytes_buf(base, nonceBytes)
            var written: UInt64 = 0
            associatedData.withUnsafeBufferPointer { ad in
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    base + nonceBytes, &written,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    ad.baseAddress, UInt64(ad.count),
                    nil, base, key.bytes)
            }
            initialized = o.count
        }
    }

    /// Decrypts and authenticates a box; throws `authenticationFailed` on any change.
    public static func open(_ box: [UInt8], key: SecretKey, associatedData: [UInt8]) throws -> [UInt8] {
        try box.withUnsafeBytes { try open(raw: $0, key: key, associatedData: associatedData) }
    }

    private static func open(raw box: UnsafeRawBufferPointer, key: SecretKey, associatedData: [UInt8]) throws -> [UInt8] {
        guard box.count >= nonceBytes + tagBytes else { throw CryptoError.authenticationFailed }
        var ok = false
        // Not zero-filled first: a box that authenticates fills every byte, and one that does
        // not leaves the array empty.
        let out = [UInt8](unsafeUninitializedCapacity: box.count - nonceBytes - tagBytes) { o, initialized in
            ok = open(box, key: key, associatedData: associatedData, into: UnsafeMutableRawBufferPointer(o))
            initialized = ok ? o.count : 0
        }
        guard ok else { throw CryptoError.authenticationFailed }
        return out
    }

    /// Decrypts a box whose plaintext is itself secret straight into secure memory.
    public static func openSecret(
        _ box: [UInt8], key: SecretKey, associatedData: [UInt8],
        storage: SecretKey.Storage = .guarded
    ) throws -> SecretKey {
        guard box.count > nonceBytes + tagBytes else { throw CryptoError.authenticationFailed }
        let secret = try SecretKey(zeroedCount: box.count - nonceBytes - tagBytes, storage: storage)
        let ok = box.withUnsafeBytes { b in secret.withUnsafeMutableBytes { open(b, key: key, associatedData: associatedData, into: $0) } }
        guard ok else { throw CryptoError.authenticationFailed }
        return secret
    }

    /// The caller has checked `box` holds at least a nonce and a tag, and `out` has room for the rest.
    private static func open(_ box: UnsafeRawBufferPointer, key: SecretKey, associatedData: [UInt8], into out: UnsafeMutableRawBufferPointer) -> Bool {
        Sodium.ensureReady()
        guard key.count == keyBytes, let base = box.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        var written: UInt64 = 0
        var scratch: UInt8 = 0
        return withUnsafeMutablePointer(to: &scratch) { fallback in
            let target = out.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? fallback
            return associatedData.withUnsafeBufferPointer { ad in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    target, &written, nil,
                    base + nonceBytes, UInt64(box.count - nonceBytes),
                    ad.baseAddress, UInt64(ad.count),
                    base, key.bytes)
            } == 0
        }
    }
}
