import Foundation

/// The serialised half of redemption: group commit of prepared redemptions, in order, in one
/// write transaction of the `RedemptionStore`, so use counts stay exact.
///
/// A prepared approval costs one guarded count (still active, same share version) and one
/// history entry; if the count finds the grant changed, the writer redoes that redemption in
/// full. Several approvals of one grant share one count (`countAhead`). Nothing is returned
/// before the commit.
///
/// A redemption that fails before writing (a missing or tampered share) fails alone. If a
/// statement fails, the whole transaction is rolled back and every redemption is redone alone
/// in its own transaction, so one failure costs only its own request (and a failing
/// redemption is never answered as a success).
struct RedemptionWriter: Sendable {
    let store: any RedemptionStore
    let audit: AuditWriter
    let clock: VaultClock
    let cache: RedeemableGrantCache
    let health: WriterHealth

    func commit(_ prepared: [PreparedRedemption]) -> [Result<RedemptionOutcome, any Error>] {
        guard !prepared.isEmpty else { return [] }
        var seen = SeenGrants()
        do {
            let results = try store.write { transaction in try write(prepared, seen: &seen, transaction) }
            health.recordSuccess()
            remember(seen)
            return results
        } catch {
            guard prepared.count > 1 else {
                health.recordFailure()
                return [.failure(error)]
            }
            return prepared.map { job in
                var seen = SeenGrants()
                do {
                    let results = try store.write { transaction in try write([job], seen: &seen, transaction) }
                    health.recordSuccess()
                    remember(seen)
                    return results.first ?? .failure(VaultError.storage("the redemption was not committed"))
                } catch {
                    health.recordFailure()
                    return .failure(error)
                }
            }
        }
    }

    /// Grants the writer read in a transaction, for the cache once that transaction has
    /// committed (grants read in a rolled-back transaction may hold counts that never happened).
    typealias SeenGrants = [(selector: [UInt8], grant: RedeemableGrant)]

    private func remember(_ seen: SeenGrants) {
        for (selector, grant) in seen { cache[selector] = grant }
    }

    /// A redemption that failed before it wrote anything (a missing or tampered share): it fails
    /// alone, and the rest of its batch goes on.
    struct RequestFailure: Error {
        let underlying: any Error
    }

    private func write(
        _ jobs: [PreparedRedemption], seen: inout SeenGrants,
        _ transaction: any RedemptionTransaction
    ) throws -> [Result<RedemptionOutcome, any Error>] {
        let now = Millis.from(clock())
        var tip = try audit.tip(in: transaction)
        func full(_ request: RedemptionRequest) throws -> Result<RedemptionOutcome, any Error> {
            do {
                return .success(try process(request, now: now, tip: &tip, seen: &seen, transaction))
            } catch let failure as RequestFailure {
                return .failure(failure.underlying)
            }
        }
        let counted = try countAhead(jobs, now: now, transaction)
        return try jobs.map { job in
            switch job.step {
            case .deny(let outcome, let sealed):
                try audit.appendSealed(.shareDenied, sealed, atMillis: now, tip: &tip, to: transaction)
                return .success(outcome)
            case .redeem(let grant, let version, let outcome, let sealed):
                guard
                    try counted.contains(Approval(grant: grant, version: version))
                        || transaction.countUses(1, of: grant, nowMillis: now, version: version)
                else {
                    // Revoked, expired, used up or re-materialised since it was prepared.
                    return try full(job.request)
                }
                try audit.appendSealed(.shareRedeemed, sealed, atMillis: now, tip: &tip, to: transaction)
                return .success(outcome)
            case .answer(let outcome):
                return .success(outcome)
            case .full:
                return try full(job.request)
            }
        }
    }

    /// Prepared approvals of one grant at one share version.
    struct Approval: Hashable {
        let grant: RedeemableGrant.Key
        let version: Int
    }

    /// Counts, with one guarded count each, every grant that has several prepared approvals in
    /// the batch, when all of them fit (still active, same share version, enough uses left);
    /// returns the groups so counted. A group that does not fit is left to be counted request by
    /// request, in order, as before. Only done when nothing in the batch was prepared to be done
    /// in full, and only for a grant all of whose approvals in the batch were prepared from one
    /// row at one share version: a request that is redone in full reads its grant's count, and it
    /// must never be a grant counted ahead, whose count already holds uses of requests behind it.
    /// So the outcomes and the share history are exactly those of counting one by one.
    private func countAhead(_ jobs: [PreparedRedemption], now: Int64, _ transaction: any RedemptionTransaction) throws -> Set<Approval> {
        var groups: [Approval: Int] = [:]
        for job in jobs {
            switch job.step {
            case .full: return []
            case .deny, .answer: continue
            case .redeem(let grant, let version, _, _):
                groups[Approval(grant: grant, version: version), default: 0] += 1
            }
        }
        // A grant prepared at two share versions (or, after a VACUUM, from two row numbers) is
        // left alone: the stale group's full redo would read the other group's uses.
        var groupsPerGrant: [String: Int] = [:]
        for approval in groups.keys { groupsPerGrant[approval.grant.id, default: 0] += 1 }
        var counted = Set<Approval>()
        for (approval, count) in groups where count > 1 && groupsPerGrant[approval.grant.id] == 1 {
            if try transaction.countUses(count, of: approval.grant, nowMillis: now, version: approval.version) {
                counted.insert(approval)
            }
        }
        return counted
    }

    /// A redemption from scratch, under the write lock: the path for anything `prepare` could
    /// not settle, and for approvals whose grant changed before the commit.
    /// Throws `RequestFailure` when the redemption fails before writing; any other error is the
    /// store's and fails the transaction.
    private func process(
        _ request: RedemptionRequest, now: Int64, tip: inout AuditWriter.Tip, seen: inout SeenGrants,
        _ transaction: any RedemptionTransaction
    ) throws -> RedemptionOutcome {
        func deny(_ reason: String, grantID: String?) throws {
            try audit.append(
                .shareDenied, AuditBody(grantID: grantID, client: request.client, userAgent: request.userAgent, reason: reason),
                atMillis: now, tip: &tip, to: transaction)
        }
        let found: RedeemableGrant?
        do {
            found = try request.token.map { try transaction.redeemableGrant(selector: $0.selector) } ?? nil
        } catch let error as VaultError {
            // A damaged grant or share row (a tampered file) fails this request alone.
            guard case .corrupt = error else { throw error }
            throw RequestFailure(underlying: error)
        }
        guard let token = request.token, let grant = found else {
            if request.limited { return .rateLimited }
            try deny("invalid_token", grantID: nil)
            return .invalidToken
        }
        if request.limited, !token.matches(secretHash: grant.secretHash) { return .rateLimited }
        // Only grants whose token was presented: an unknown selector leaves the cache alone.
        seen.append((token.selector, grant))
        switch RedemptionDecision.decide(request, token: token, grant: grant, nowMillis: now, vaultID: store.vaultID) {
        case .deny(let reason, let outcome):
            // Over the limit, a revoked or expired grant's token writes no more entries.
            if request.limited { return .rateLimited }
            try deny(reason, grantID: grant.id)
            return outcome
        case .notModified(let version):
            // On the record like every answer to a genuine token, but no use is counted.
            try audit.append(
                .shareNotModified, AuditBody(grantID: grant.id, version: version, client: request.client, userAgent: request.userAgent),
                atMillis: now, tip: &tip, to: transaction)
            return .notModified(version: version)
        case .failed(let error):
            throw RequestFailure(underlying: error)
        case .release(let version, let body, let binding):
            // Checked in this transaction just now, so the guarded count cannot miss.
            guard try transaction.countUses(1, of: grant.key, nowMillis: now, version: version) else {
                throw VaultError.storage("grant \(grant.id) changed inside its own transaction")
            }
            try audit.append(
                .shareRedeemed, AuditBody(grantID: grant.id, version: version, client: request.client, userAgent: request.userAgent),
                atMillis: now, tip: &tip, to: transaction)
            return .share(body: body, version: version, binding: binding)
        }
    }
}
