import Foundation

/// Text forms of a vendor's X25519 keys: `vrmpk1_…` (public) and `vrmsk1_…` (secret),
/// each base64url of 32 bytes plus a 6-character checksum. See `Specs/token-format.md`.
public enum VendorKeyText {
    static let publicCodec = ChecksummedText(prefix: "vrmpk1_", domain: "vrm-vendor-public-key-v1", payloadBytes: 32)
    static let secretCodec = ChecksummedText(prefix: "vrmsk1_", domain: "vrm-vendor-secret-key-v1", payloadBytes: 32)

    /// The copy-pasteable public key.
    public static func encodePublic(_ publicKey: [UInt8]) -> String {
        publicCodec.encode(publicKey)
    }

    /// Parses a public key; throws `malformedEncoding("vendor public key")` otherwise.
    public static func decodePublic(_ text: String) throws -> [UInt8] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)[...]
        guard let key = publicCodec.decode(trimmed) else { throw CryptoError.malformedEncoding("vendor public key") }
        return key
    }

    /// The secret-key file content (one line). The caller writes it 0600 and drops the string.
    public static func encodeSecret(_ keyPair: BoxKeyPair) -> [UInt8] {
        var raw = keyPair.secretKey.exposedCopy()
        defer { Wipe.bytes(&raw) }
        return Array((secretCodec.encode(raw) + "\n").utf8)
    }

    /// Parses a secret-key file's bytes into a key pair.
    public static func decodeSecret(_ fileBytes: [UInt8]) throws -> BoxKeyPair {
        var end = fileBytes.count
        while end > 0, fileBytes[end - 1] == 0x0A || fileBytes[end - 1] == 0x0D || fileBytes[end - 1] == 0x20 { end -= 1 }
        let decoded = fileBytes.withUnsafeBufferPointer { secretCodec.decode(bytes: UnsafeBufferPointer(rebasing: $0[0..<end])) }
        guard var raw = decoded else { throw CryptoError.malformedEncoding("vendor secret key file") }
        let secret = try SecretKey(wiping: &raw)
        return try BoxKeyPair(secretKey: secret)
    }
}
