internal import CSodium

/// BLAKE2b (`crypto_generichash`), optionally keyed.
public enum BLAKE2b {
    /// Hashes the concatenation of `parts` to `outputLength` bytes (16...64).
    public static func hash(_ parts: [[UInt8]], key: SecretKey? = nil, outputLength: Int = 32) -> [UInt8] {
        Sodium.ensureReady()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        defer {
            sodium_memzero(raw, crypto_generichash_statebytes())
            raw.deallocate()
        }
        let state = OpaquePointer(raw)
        _ = crypto_generichash_init(state, key.map { UnsafePointer($0.bytes) }, key?.count ?? 0, outputLength)
        for part in parts {
            _ = crypto_generichash_update(state, part, UInt64(part.count))
        }
        var out = [UInt8](repeating: 0, count: outputLength)
        _ = crypto_generichash_final(state, &out, outputLength)
        return out
    }

    /// Hashes one byte string.
    public static func hash(_ data: [UInt8], key: SecretKey? = nil, outputLength: Int = 32) -> [UInt8] {
        hash([data], key: key, outputLength: outputLength)
    }

    /// Hashes into secure memory (for keys derived from a secret).
    public static func deriveSecret(_ parts: [[UInt8]], key: SecretKey, storage: SecretKey.Storage = .guarded) throws -> SecretKey {
        var bytes = hash(parts, key: key, outputLength: 32)
        return try SecretKey(wiping: &bytes, storage: storage)
    }
}
