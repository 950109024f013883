public import Foundation
public import GRDB
public import VaultCrypto

/// Appends hash-chained entries whose bodies are sealed to the vault's X25519 key.
///
/// Each writer (one per CLI process or server run) has an ephemeral X25519 key pair; its public
/// half is recorded in `audit_writers`, and bodies are `crypto_box_easy_afternm` under the
/// precomputed shared key, so neither writing nor reading costs a public-key operation per entry.
/// Only the vault key, or this writer while it lives, can open them: a later or earlier
/// server run cannot read another run's entries. See `Specs/audit-chain.md`.
public struct AuditWriter: Sendable {
    public let id: String
    let publicKey: [UInt8]
    let box: PrecomputedBox

    public init(vaultBoxPublicKey: [UInt8]) throws {
        let ephemeral = try BoxKeyPair.generate()
        id = Random.identifier(prefix: "w_")
        publicKey = ephemeral.publicKey
        box = try PrecomputedBox(publicKey: vaultBoxPublicKey, secretKey: ephemeral.secretKey)
    }

    /// Appends one entry inside the caller's write transaction; returns its sequence number and hash.
    @discardableResult
    public func append(_ event: AuditEvent, _ body: AuditBody, atMillis: Int64, _ db: Database) throws -> (seq: Int64, hash: [UInt8]) {
        try db.execute(
            sql: "INSERT OR IGNORE INTO audit_writers (id, public_key, created_at) VALUES (?, ?, ?)",
            arguments: [id, Data(publicKey), atMillis])
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        let seq = (last?["seq"] as Int64? ?? 0) + 1
        let previous = last?.bytes("hash") ?? AuditChain.genesis
        var plain = Array(try Vault.encoder.encode(body))
        defer { Wipe.bytes(&plain) }
        let sealed = box.seal(plain)
        let hash = AuditChain.entryHash(previous: previous, seq: seq, atMillis: atMillis, event: event.rawValue, writerID: id, body: sealed)
        try db.execute(
            sql: "INSERT INTO audit (seq, at, event, writer_id, body, hash) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [seq, atMillis, event.rawValue, id, Data(sealed), Data(hash)])
        return (seq, hash)
    }
}

/// The hash chain rule, shared by writer and verifier.
public enum AuditChain {
    /// The "previous hash" of entry 1.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// BLAKE2b-256("vrm-audit-v1" ‖ previous ‖ u64 seq ‖ u64 at ‖ len‖event ‖ len‖writer ‖ len‖body).
    public static func entryHash(previous: [UInt8], seq: Int64, atMillis: Int64, event: String, writerID: String, body: [UInt8]) -> [UInt8] {
        func lengthPrefixed(_ bytes: [UInt8]) -> [[UInt8]] { [VaultHeader.u32(UInt32(bytes.count)), bytes] }
        var parts: [[UInt8]] = [Array("vrm-audit-v1".utf8), previous,
                                VaultHeader.u64(UInt64(bitPattern: seq)), VaultHeader.u64(UInt64(bitPattern: atMillis))]
        parts += lengthPrefixed(Array(event.utf8))
        parts += lengthPrefixed(Array(writerID.utf8))
        parts += lengthPrefixed(body)
        return BLAKE2b.hash(parts)
    }
}
