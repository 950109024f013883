/// One stored share-history entry, as the chain hashes it: the body is sealed.
public struct AuditRecord: Sendable {
    public var seq: Int64
    public var atMillis: Int64
    public var event: String
    public var writerID: String
    /// Sealed to the vault's X25519 key (see `AuditWriter`).
    public var body: [UInt8]
    public var hash: [UInt8]
    /// Format 2, entries the CLI writes: `VaultKeys.auditMAC(hash:)`. nil for the server's
    /// entries (it has no vault key).
    public var mac: [UInt8]?
    /// When read with its link (`AuditTable.pipelined`): the stored hash and sequence number of
    /// the entry before it; nil for the first.
    var previousHash: [UInt8]?
    var previousSeq: Int64?

    public init(seq: Int64, atMillis: Int64, event: String, writerID: String, body: [UInt8], hash: [UInt8], mac: [UInt8]? = nil) {
        self.mac = mac
        self.seq = seq
        self.atMillis = atMillis
        self.event = event
        self.writerID = writerID
        self.body = body
        self.hash = hash
    }
}

/// Where an `AuditWriter` appends, inside the caller's write transaction: the vault file's
/// audit table, or another redemption store's.
public protocol AuditSink {
    /// Records a writer's public key once (again is a no-op).
    func registerAuditWriter(id: String, publicKey: [UInt8], atMillis: Int64) throws
    /// The newest entry's sequence number and hash; nil for an empty history.
    func lastAuditEntry() throws -> AuditWriter.Tip?
    /// Stores one entry; the writer has chained it to the previous one.
    func appendAuditEntry(_ entry: AuditRecord) throws
}
