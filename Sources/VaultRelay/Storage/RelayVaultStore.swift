import Foundation
import NIOCore
import PostgresNIO
import Synchronization
import VaultCore
import VaultCrypto

/// One vault's redemption store on the relay: the same `RedemptionStore` that `vrm serve`'s
/// vault file is, over PostgreSQL. Each write transaction first locks the vault's row, so the
/// history chain has one writer at a time across every relay node, and the guarded count keeps
/// use limits exact across nodes. The transaction commits (`synchronous_commit = on`) before
/// `Redeemer` lets any answer go.
final class RelayVaultStore: RedemptionStore {
    let database: RelayDatabase
    let vaultID: [UInt8]
    let vaultBoxPublicKey: [UInt8]
    /// Writers whose key a committed transaction recorded: not recorded again.
    private let registered = Mutex<Set<String>>([])

    init(database: RelayDatabase, vault: RelayVault) {
        self.database = database
        self.vaultID = vault.id
        self.vaultBoxPublicKey = vault.boxKey
    }

    /// One transaction: `BEGIN` and the lock sent together, the redemptions' own statements,
    /// then the history entries, the new tip and `COMMIT` sent together — three waits for a
    /// batch of any size that needs no fresh read (`RelayConnection.pipeline`).
    func write<T>(_ body: (any RedemptionTransaction) throws -> T) throws -> T {
        try locked(body)
    }

    /// `write` with the relay's own transaction type, for statements beside the redemptions'
    /// (an access request and its history entry).
    func locked<T>(_ body: (Transaction) throws -> T) throws -> T {
        let (result, newWriters) = try database.withConnection { c -> (T, [String]) in
            do {
                let lock: PostgresQuery = try "SELECT tip_seq, tip_hash, box_key FROM relay_vaults WHERE id = \(Data(vaultID)) FOR UPDATE"
                let opened = try c.pipeline(["BEGIN", lock])
                guard let row = opened.last?.rows.first else { throw RelayError.unknownVault }
                let (seq, hash, box) = try row.decode((Int64, Data, Data).self)
                // Entries must be sealed to the vault's current key (a rotation replaces it).
                guard box.bytes == vaultBoxPublicKey else { throw RelayError.boxKeyChanged }
                let transaction = Transaction(
                    connection: c, vaultID: vaultID, tip: AuditWriter.Tip(seq: seq, hash: hash.bytes),
                    registered: registered.withLock { $0 })
                let result = try body(transaction)
                var closing = try transaction.entriesInsert().map { [$0] } ?? []
                if let tip = transaction.newTip {
                    closing.append(
                        try "UPDATE relay_vaults SET tip_seq = \(tip.seq), tip_hash = \(Data(tip.hash)) WHERE id = \(Data(vaultID))")
                }
                closing.append("COMMIT")
                try c.pipeline(closing)
                return (result, transaction.newWriters)
            } catch {
                try? c.execute("ROLLBACK")
                throw error
            }
        }
        if !newWriters.isEmpty { registered.withLock { $0.formUnion(newWriters) } }
        return result
    }

    func isReady() -> Bool { database.ping() }

    func canWrite() -> Bool {
        (try? database.transaction { c in try c.execute("SELECT txid_current()") }) != nil
    }

    /// The statements of one redemption transaction.
    final class Transaction: RedemptionTransaction {
        let c: RelayConnection
        let vaultID: [UInt8]
        private let startTip: AuditWriter.Tip
        private(set) var newTip: AuditWriter.Tip?
        private let registered: Set<String>
        private(set) var newWriters: [String] = []

        init(connection: RelayConnection, vaultID: [UInt8], tip: AuditWriter.Tip, registered: Set<String>) {
            self.c = connection
            self.vaultID = vaultID
            self.startTip = tip
            self.registered = registered
        }

        func redeemableGrant(selector: [UInt8]) throws -> RedeemableGrant? {
            let rows = try c.query(
                """
                SELECT id, secret_hash, binding, revoked_at, expires_at, max_uses, use_count, share_version, share_body, binds_policy
                FROM relay_grants WHERE selector = \(Data(selector)) AND vault_id = \(Data(vaultID))
                """
            ).rows
            guard let row = rows.first else { return nil }
            let (id, hash, binding, revoked, expires, maxUses, uses, version, body, binds) = try row.decode(
                (String, Data, String, Int64?, Int64?, Int64?, Int64, Int64, Data?, Bool).self)
            return RedeemableGrant(
                key: .init(row: 0, id: id), secretHash: hash.bytes, binding: GrantBinding(rawValue: binding) ?? .bearer, revokedAt: revoked,
                expiresAt: expires, maxUses: maxUses.map { Int(clamping: $0) }, useCount: Int(clamping: uses),
                share: body.map { (Int(clamping: version), $0.bytes) }, bindsPolicy: binds)
        }

        func countUses(_ uses: Int, of grant: RedeemableGrant.Key, nowMillis: Int64, version: Int) throws -> Bool {
            var binds = PostgresBindings()
            try binds.append(Data(vaultID))
            binds.append(grant.id)
            binds.append(nowMillis)
            binds.append(Int64(version))
            binds.append(Int64(uses))
            // The share goes with the last use it may serve: the relay keeps none it may not serve.
            let result = try c.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE relay_grants SET use_count = use_count + $5,
                            share_body = CASE WHEN max_uses IS NOT NULL AND use_count + $5 >= max_uses THEN NULL ELSE share_body END
                        WHERE vault_id = $1 AND id = $2 AND \(GrantStateSQL.active(now: "$3", uses: "$5")) AND share_version = $4
                        """, binds: binds))
            return result.metadata.rows == 1
        }

        func registerAuditWriter(id: String, publicKey: [UInt8], atMillis: Int64) throws {
            guard !registered.contains(id), !newWriters.contains(id) else { return }
            try c.query(
                """
                INSERT INTO relay_writers (vault_id, id, public_key) VALUES (\(Data(vaultID)), \(id), \(Data(publicKey)))
                ON CONFLICT DO NOTHING
                """)
            newWriters.append(id)
        }

        func lastAuditEntry() throws -> AuditWriter.Tip? {
            let tip = newTip ?? startTip
            return tip.seq == 0 ? nil : tip
        }

        /// Entries are gathered and written in one statement at the end of the transaction
        /// (`entriesInsert`): nothing in a redemption reads them back, and the chain's tip is
        /// carried here.
        private var pending: [AuditRecord] = []

        func appendAuditEntry(_ entry: AuditRecord) throws {
            pending.append(entry)
            newTip = AuditWriter.Tip(seq: entry.seq, hash: entry.hash)
        }

        /// The statement that writes the gathered entries; nil when there are none.
        func entriesInsert() throws -> PostgresQuery? {
            guard !pending.isEmpty else { return nil }
            let bytes = { (value: [UInt8]) in ByteBuffer(bytes: value) }
            return try """
            INSERT INTO relay_entries (vault_id, seq, at_millis, event, writer_id, body, hash)
            SELECT \(Data(vaultID)), * FROM unnest(\(pending.map(\.seq))::bigint[], \(pending.map(\.atMillis))::bigint[],
                \(pending.map(\.event))::text[], \(pending.map(\.writerID))::text[], \(pending.map { bytes($0.body) })::bytea[],
                \(pending.map { bytes($0.hash) })::bytea[])
            """
        }
    }
}
