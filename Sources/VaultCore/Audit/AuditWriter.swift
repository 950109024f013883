import Foundation
import VaultCrypto

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
    /// Counter nonces for `box`: its key exists only in this writer, so they never repeat.
    let nonces = NonceSequence()
    /// The CLI's key ring: its entries carry the vault key's MAC. nil in the server.
    let keys: VaultKeys?

    public init(vaultBoxPublicKey: [UInt8]) throws {
        try self.init(vaultBoxPublicKey: vaultBoxPublicKey, keys: nil)
    }

    init(vaultBoxPublicKey: [UInt8], keys: VaultKeys?) throws {
        self.keys = keys
        let ephemeral = try BoxKeyPair.generate()
        id = Random.identifier(prefix: "w_")
        publicKey = ephemeral.publicKey
        box = try PrecomputedBox(publicKey: vaultBoxPublicKey, secretKey: ephemeral.secretKey)
    }

    /// The newest entry of the chain, carried through a batch so each append needs no lookup.
    public struct Tip: Sendable {
        public var seq: Int64
        public var hash: [UInt8]

        public init(seq: Int64, hash: [UInt8]) {
            self.seq = seq
            self.hash = hash
        }
    }

    /// Reads the chain tip inside the caller's write transaction, and records this writer's
    /// public key there once (appends with a tip need not do it again).
    func tip(in sink: some AuditSink) throws -> Tip {
        try sink.registerAuditWriter(id: id, publicKey: publicKey, atMillis: Millis.from(Date()))
        return try sink.lastAuditEntry() ?? Tip(seq: 0, hash: AuditChain.genesis)
    }

    /// Appends one entry inside the caller's write transaction.
    public func append(_ event: AuditEvent, _ body: AuditBody, atMillis: Int64, to sink: some AuditSink) throws {
        var tip = try self.tip(in: sink)
        try append(event, body, atMillis: atMillis, tip: &tip, to: sink)
    }

    /// Appends after `tip` and moves `tip` to the new entry. The caller guarantees `tip` is the
    /// current end of the chain in this transaction.
    func append(_ event: AuditEvent, _ body: AuditBody, atMillis: Int64, tip: inout Tip, to sink: some AuditSink) throws {
        try appendSealed(event, seal(body), atMillis: atMillis, tip: &tip, to: sink)
    }

    /// The stored form of a body. Sealing needs no transaction, so callers can do it first,
    /// outside the write lock.
    func seal(_ body: AuditBody) -> [UInt8] {
        var plain = body.encodedRecord
        defer { Wipe.bytes(&plain) }
        return box.seal(plain, nonces: nonces)
    }

    /// Appends a body sealed by `seal` after `tip`, and moves `tip` to the new entry.
    func appendSealed(_ event: AuditEvent, _ sealed: [UInt8], atMillis: Int64, tip: inout Tip, to sink: some AuditSink) throws {
        let (seq, overflow) = tip.seq.addingReportingOverflow(1)
        guard !overflow else { throw VaultError.corrupt("audit row \(tip.seq): the history cannot grow past this sequence number") }
        let hash = AuditChain.entryHash(previous: tip.hash, seq: seq, atMillis: atMillis, event: event.rawValue, writerID: id, body: sealed)
        try sink.appendAuditEntry(
            AuditRecord(
                seq: seq, atMillis: atMillis, event: event.rawValue, writerID: id, body: sealed, hash: hash,
                mac: keys?.auditMAC(hash: hash)))
        tip = Tip(seq: seq, hash: hash)
    }
}

/// The hash chain rule, shared by writer and verifier.
public enum AuditChain {
    /// The "previous hash" of entry 1.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// BLAKE2b-256("vrm-audit-v1" ‖ previous ‖ u64 seq ‖ u64 at ‖ len‖event ‖ len‖writer ‖ len‖body).
    public static func entryHash(previous: [UInt8], seq: Int64, atMillis: Int64, event: String, writerID: String, body: [UInt8]) -> [UInt8] {
        // Streamed, not concatenated: the writer hashes every entry it appends.
        BLAKE2b.hash { input in
            input.append(utf8: "vrm-audit-v1")
            input.append(previous)
            input.append(bigEndian: UInt64(bitPattern: seq))
            input.append(bigEndian: UInt64(bitPattern: atMillis))
            input.append(bigEndian: UInt32(event.utf8.count))
            input.append(utf8: event)
            input.append(bigEndian: UInt32(writerID.utf8.count))
            input.append(utf8: writerID)
            input.append(bigEndian: UInt32(body.count))
            input.append(body)
        }
    }
}
