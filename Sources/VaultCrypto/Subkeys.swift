internal import CSodium

/// Subkeys of the master key via `crypto_kdf_derive_from_key` (BLAKE2b), context `vrmvault`.
public enum Subkeys {
    /// The 8-byte libsodium KDF context for all vault subkeys.
    public static let context = "vrmvault"

    /// Derives the 32-byte subkey number `id` from `master`.
    public static func derive(from master: SecretKey, id: UInt64) throws -> SecretKey {
        Sodium.ensureReady()
        guard master.count == Int(crypto_kdf_KEYBYTES) else { throw CryptoError.invalidLength("master key") }
        let subkey = try SecretKey(zeroedCount: 32)
        let ctx = Array(context.utf8).map { CChar(bitPattern: $0) }
        _ = crypto_kdf_derive_from_key(subkey.bytes, subkey.count, id, ctx, master.bytes)
        return subkey
    }
}
