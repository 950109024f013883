/// Where redemptions are checked, counted and recorded: the vault file (`SQLiteRedemptionStore`,
/// what `vrm serve` uses) or another store that holds the same server-side state. A store
/// never holds the vault key: it sees secret hashes, policy, sealed shares and sealed history.
public protocol RedemptionStore: Sendable {
    /// The vault's id (part of a bearer share's associated data).
    var vaultID: [UInt8] { get }
    /// The vault's X25519 public key, to which history entries are sealed.
    var vaultBoxPublicKey: [UInt8] { get }
    /// Runs `body` in one write transaction that is durable once this returns; on any error
    /// nothing of it is kept.
    func write<T>(_ body: (any RedemptionTransaction) throws -> T) throws -> T
    /// Whether the store answers reads now.
    func isReady() -> Bool
    /// Whether a write transaction that writes to disk commits now (space left, a writable
    /// file, no I/O error), without changing anything a reader sees: the readiness probe
    /// while the writer's transactions are failing.
    func canWrite() -> Bool
}

/// The reads and writes of a redemption, inside one `RedemptionStore.write` transaction.
public protocol RedemptionTransaction: AuditSink {
    /// The grant whose token has this selector, with its current share; nil when there is none.
    func redeemableGrant(selector: [UInt8]) throws -> RedeemableGrant?
    /// Counts `uses` uses of the grant only if it is still active with that many uses left
    /// (`GrantState.evaluate`) and its share is still at `version`; true when counted. When
    /// they do not all fit, none is counted.
    func countUses(_ uses: Int, of grant: RedeemableGrant.Key, nowMillis: Int64, version: Int) throws -> Bool
}

/// One grant as a redemption needs it: the secret's hash, the policy and the share.
public struct RedeemableGrant: Sendable {
    /// How the store finds the grant again for the guarded count.
    public struct Key: Hashable, Sendable {
        /// The store's row number (a VACUUM may renumber rows; `id` guards against that).
        public var row: Int64
        public var id: String

        public init(row: Int64, id: String) {
            self.row = row
            self.id = id
        }
    }

    public var key: Key
    public var secretHash: [UInt8]
    public var binding: GrantBinding
    public var revokedAt: Int64?
    public var expiresAt: Int64?
    public var maxUses: Int?
    public var useCount: Int
    /// The current share; nil when the grant has none.
    public var share: (version: Int, body: [UInt8])?
    /// Format 2 (the row has a sealed status): a bearer share's associated data binds the
    /// expiry and use limit, so a row whose limits were changed in the clear fails to decrypt.
    public var bindsPolicy: Bool

    public init(
        key: Key, secretHash: [UInt8], binding: GrantBinding, revokedAt: Int64?, expiresAt: Int64?, maxUses: Int?, useCount: Int,
        share: (version: Int, body: [UInt8])?, bindsPolicy: Bool = true
    ) {
        self.bindsPolicy = bindsPolicy
        self.key = key
        self.secretHash = secretHash
        self.binding = binding
        self.revokedAt = revokedAt
        self.expiresAt = expiresAt
        self.maxUses = maxUses
        self.useCount = useCount
        self.share = share
    }

    var id: String { key.id }

    /// The state at `nowMillis` (`GrantState.evaluate`).
    func state(nowMillis: Int64) -> GrantState {
        GrantState.evaluate(revokedAt: revokedAt, expiresAt: expiresAt, maxUses: maxUses, useCount: useCount, nowMillis: nowMillis)
    }
}
