public import Foundation
import Synchronization
import VaultCrypto

/// The server-side redemption: works from a `RedemptionStore` alone, without the passphrase.
///
/// A redemption has two phases: `prepare` does everything that needs no write lock, on the
/// request's own thread (many at once); `commit` hands prepared redemptions to the single
/// `RedemptionWriter`, which counts and records them in one transaction. Nothing is released
/// before its use is counted and its history entry committed.
public final class Redeemer: Sendable {
    let store: any RedemptionStore
    let audit: AuditWriter
    let clock: VaultClock
    /// Grants the writer has read, by selector: what `prepare` works from.
    let cache = RedeemableGrantCache()
    /// Whether the writer's last transaction failed.
    let health = WriterHealth()
    private let writer: RedemptionWriter

    public init(store: any RedemptionStore, clock: @escaping VaultClock = { Date() }) throws {
        self.store = store
        self.clock = clock
        self.audit = try AuditWriter(vaultBoxPublicKey: store.vaultBoxPublicKey)
        self.writer = RedemptionWriter(store: store, audit: audit, clock: clock, cache: cache, health: health)
    }

    /// A redeemer over the vault file (`vrm serve`).
    public convenience init(database: VaultDatabase, clock: @escaping VaultClock = { Date() }) throws {
        try self.init(store: SQLiteRedemptionStore(database: database), clock: clock)
    }

    /// One redemption on its own: `prepare`, then `commit` as a batch of one. No audit entry, no data.
    public func redeem(_ request: RedemptionRequest) throws -> RedemptionOutcome {
        guard let result = commit([prepare(request)]).first else { throw VaultError.storage("the redemption was not committed") }
        return try result.get()
    }

    /// `prepare` and `commit` for many requests in one transaction (benchmarks and bulk tools).
    public func redeemBatch(_ requests: [RedemptionRequest]) -> [Result<RedemptionOutcome, any Error>] {
        commit(requests.map(prepare))
    }

    /// Commits prepared redemptions, in order, in one transaction (see `RedemptionWriter`).
    public func commit(_ prepared: [PreparedRedemption]) -> [Result<RedemptionOutcome, any Error>] {
        writer.commit(prepared)
    }

    /// Whether redemptions can be answered now (the server's readiness): the store answers,
    /// and the writer can commit. After a failed write transaction (a full disk, a read-only
    /// file, an I/O error) this probes with a write of its own (`RedemptionStore.canWrite`)
    /// until one commits, so readiness comes back as soon as the store can take writes again,
    /// with or without redemptions meanwhile.
    public func isReady() -> Bool {
        guard store.isReady() else { return false }
        guard let failure = health.failure() else { return true }
        guard store.canWrite() else { return false }
        // Clears only the failure probed: one the writer met meanwhile stays.
        return health.clear(failure)
    }

    /// Everything about one redemption that needs no write lock, from the grant the writer
    /// last read (`RedeemableGrantCache`): the secret check, the state check, the share
    /// decryption and the sealing of the audit body.
    ///
    /// Grant states only move away from active (revocation, expiry and use limits are final),
    /// so a denial from a cached grant is still true at commit; an approval is re-checked by the
    /// commit's guarded count, and anything that changed since is redone by the writer in full.
    public func prepare(_ request: RedemptionRequest) -> PreparedRedemption {
        let now = Millis.from(clock())
        guard let token = request.token else {
            if request.limited { return PreparedRedemption(request: request, step: .answer(.rateLimited)) }
            return deny(request, reason: "invalid_token", grantID: nil, outcome: .invalidToken)
        }
        // Over the limit: only a genuine token goes on (a grant the writer has not cached yet is
        // looked up by the writer, which answers the same).
        if request.limited, let grant = cache[token.selector], !token.matches(secretHash: grant.secretHash) {
            return PreparedRedemption(request: request, step: .answer(.rateLimited))
        }
        // A grant the writer has not seen yet, and any conditional request (a 304 must not
        // answer for a grant revoked since it was cached), is done by the writer in full.
        guard request.held == nil, let grant = cache[token.selector] else {
            return PreparedRedemption(request: request, step: .full)
        }
        switch RedemptionDecision.decide(request, token: token, grant: grant, nowMillis: now, vaultID: store.vaultID) {
        case .deny(let reason, let outcome):
            // Over the limit, a revoked or expired grant's token writes no more entries.
            if request.limited { return PreparedRedemption(request: request, step: .answer(.rateLimited)) }
            return deny(request, reason: reason, grantID: grant.id, outcome: outcome)
        case .release(let version, let body, let binding):
            let sealed = audit.seal(AuditBody(grantID: grant.id, version: version, client: request.client, userAgent: request.userAgent))
            return PreparedRedemption(
                request: request,
                step: .redeem(
                    grant: grant.key, version: version, outcome: .share(body: body, version: version, binding: binding), auditBody: sealed))
        case .notModified, .failed:
            // A cached grant without a share, or whose share does not open, may be stale:
            // the writer reads it afresh.
            return PreparedRedemption(request: request, step: .full)
        }
    }

    private func deny(_ request: RedemptionRequest, reason: String, grantID: String?, outcome: RedemptionOutcome) -> PreparedRedemption {
        let sealed = audit.seal(AuditBody(grantID: grantID, client: request.client, userAgent: request.userAgent, reason: reason))
        return PreparedRedemption(request: request, step: .deny(outcome: outcome, auditBody: sealed))
    }
}

/// Whether the redemption writer's last write transaction failed (set by `RedemptionWriter`,
/// cleared by its next commit or by a readiness probe that could write).
final class WriterHealth: Sendable {
    /// Bit 0: failing. The other bits count failures, so that a probe clears only the failure
    /// it started from, never one the writer met while the probe ran.
    private let state = Atomic<UInt64>(0)

    /// The writer's transaction failed.
    func recordFailure() {
        var current = state.load(ordering: .relaxed)
        while true {
            let (exchanged, original) = state.compareExchange(
                expected: current, desired: (current &+ 2) | 1, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }

    /// The writer's transaction committed.
    func recordSuccess() {
        state.bitwiseAnd(~UInt64(1), ordering: .acquiringAndReleasing)
    }

    /// The current failure, or nil while the writer is healthy.
    func failure() -> UInt64? {
        let current = state.load(ordering: .acquiring)
        return current & 1 == 1 ? current : nil
    }

    /// Clears `failure` if no other failure came since; true when the writer is healthy now.
    func clear(_ failure: UInt64) -> Bool {
        state.compareExchange(expected: failure, desired: failure & ~UInt64(1), ordering: .acquiringAndReleasing).exchanged
            || self.failure() == nil
    }
}

/// The grants `Redeemer.prepare` works from, filled by the writer after its transactions
/// commit. They hold only what the store holds (the secret's hash, the share ciphertext), and
/// may be stale: the commit's guarded count catches any change. Bounded: when full it starts
/// again empty (a personal vault has far fewer grants than the bound).
final class RedeemableGrantCache: Sendable {
    static let capacity = 1024
    private let grants = Mutex<[[UInt8]: RedeemableGrant]>([:])

    subscript(selector: [UInt8]) -> RedeemableGrant? {
        get { grants.withLock { $0[selector] } }
        set {
            grants.withLock { grants in
                if newValue != nil, grants.count >= Self.capacity, grants[selector] == nil { grants.removeAll(keepingCapacity: true) }
                grants[selector] = newValue
            }
        }
    }
}
