public import VaultCrypto

/// The single header row: format metadata, KDF parameters, the wrapped master key and the
/// vault's public keys. Byte layout and checksum: `Specs/vault-format.md`.
public struct VaultHeader: Sendable, Equatable {
    /// The newest format this build reads and writes. Format 1 (no MACs) is still read, and
    /// moved to this one by the CLI on its first unlock.
    public static let currentFormat = 2
    public static let kdfAlgorithm = "argon2id13"

    public var formatVersion: Int
    /// 16 random bytes; part of every record's associated data.
    public var vaultID: [UInt8]
    public var kdf: KDFParameters
    public var salt: [UInt8]
    /// `nonce ‖ XChaCha20-Poly1305(K)` under the passphrase key.
    public var wrappedKey: [UInt8]
    public var boxPublicKey: [UInt8]
    public var signPublicKey: [UInt8]
    /// The X25519 secret key, sealed under the identity subkey.
    public var boxSecretSealed: [UInt8]
    /// The Ed25519 secret key, sealed under the identity subkey.
    public var signSecretSealed: [UInt8]
    public var createdAtMillis: Int64
    /// Unkeyed BLAKE2b of the fields: tells accidental damage from a wrong passphrase before
    /// the key is unwrapped. Anyone can recompute it; it is not a security check.
    public var checksum: [UInt8]
    /// Format 2: keyed BLAKE2b of the same fields under the integrity subkey, checked once the
    /// master key is unwrapped (`VaultKeys.headerMAC`). nil in a format-1 header.
    public var mac: [UInt8]?
    /// Format 2: how many CLI writes the vault has seen (each adds one). Never goes down, so a
    /// checkpoint that recorded a higher one catches a rollback.
    public var generation: Int64?
    /// Format 2: keyed digest of every row only the CLI writes (`StorageTransaction.feedRecords`).
    public var recordsDigest: [UInt8]?

    /// Hex of the vault id (used in file names and share documents).
    public var vaultIDHex: String { Hex.encode(vaultID) }

    /// BLAKE2b-256 over the length-prefixed fields, in the order the spec lists.
    public func computeChecksum() -> [UInt8] {
        BLAKE2b.hash([Array("vrm-header-v1".utf8)] + authenticatedFields)
    }

    /// The fields the checksum and the MAC cover, each length-prefixed, in the spec's order.
    var authenticatedFields: [[UInt8]] {
        var parts: [[UInt8]] = []
        func field(_ bytes: [UInt8]) {
            parts.append(Self.u32(UInt32(bytes.count)))
            parts.append(bytes)
        }
        field(Self.u64(UInt64(formatVersion)))
        field(vaultID)
        field(Array(Self.kdfAlgorithm.utf8))
        field(Self.u64(kdf.opsLimit))
        field(Self.u64(kdf.memLimit))
        field(salt)
        field(wrappedKey)
        field(boxPublicKey)
        field(signPublicKey)
        field(boxSecretSealed)
        field(signSecretSealed)
        field(Self.u64(UInt64(bitPattern: createdAtMillis)))
        return parts
    }

    /// Whether the stored checksum matches the fields (a mismatch means corruption, not a wrong passphrase).
    public var isIntact: Bool { constantTimeEquals(checksum, computeChecksum()) }

    static func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    static func u64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) } }
}
