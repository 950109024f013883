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

    func register(atMillis: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO audit_writers (id, public_key, created_at) VALUES (?, ?, ?)")
            .execute(arguments: [id, Data(publicKey), atMillis])
    }

    /// The newest entry of the chain, carried through a batch so each append needs no lookup.
    public struct Tip: Sendable {
        var seq: Int64
        var hash: [UInt8]
    }

    /// Reads the chain tip inside the caller's write transaction, and records this writer's
    /// public key there once (appends with a tip need not do it again).
    func tip(_ db: Database) throws -> Tip {
        try register(atMillis: Millis.from(Date()), db)
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        return Tip(seq: last?["seq"] as Int64? ?? 0, hash: last?.bytes("hash") ?? AuditChain.genesis)
    }

    /// Appends one entry inside the caller's write transaction; returns its sequence number and hash.
    @discardableResult
    public func append(_ event: AuditEvent, _ body: AuditBody, atMillis: Int64, _ db: Database) throws -> (seq: Int64, hash: [UInt8]) {
        var tip = try self.tip(db)
        try append(event, body, atMillis: atMillis, tip: &tip, db)
        return (tip.seq, tip.hash)
    }

    /// Appends after `tip` and moves `tip` to the new entry. The caller guarantees `tip` is the
    /// current end of the chain in this transaction.
    func append(_ event: AuditEvent, _ body: AuditBody, atMillis: Int64, tip: inout Tip, _ db: Database) throws {
        let seq = tip.seq + 1
        var plain = body.encodedRecord
        defer { Wipe.bytes(&plain) }
        let sealed = box.seal(plain)
        let hash = AuditChain.entryHash(previous: tip.hash, seq: seq, atMillis: atMillis, event: event.rawValue, writerID: id, body: sealed)
        try db.cachedStatement(sql: "INSERT INTO audit (seq, at, event, writer_id, body, hash) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: [seq, atMillis, event.rawValue, id, Data(sealed), Data(hash)])
        tip = Tip(seq: seq, hash: hash)
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
