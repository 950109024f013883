public import Foundation
public import GRDB
public import VaultCrypto
import Synchronization

/// What a vendor presented.
public struct RedemptionRequest: Sendable {
    /// The presented token, parsed when the request is made (on the request's own thread, not
    /// the single commit writer); nil when missing or malformed.
    public let token: GrantToken?
    public var client: String
    public var userAgent: String?
    public var ifNoneMatch: String?

    public init(token: Substring?, client: String, userAgent: String?, ifNoneMatch: String?) {
        self.token = token.flatMap { try? GrantToken.parse($0) }
        self.client = client
        self.userAgent = userAgent
        self.ifNoneMatch = ifNoneMatch
    }
}

/// What the server answers.
public enum RedemptionOutcome: Sendable, Equatable {
    /// 200: the JSON body to send, its version (ETag) and binding.
    case share(body: [UInt8], version: Int, binding: GrantBinding)
    /// 304: the vendor already holds this version.
    case notModified(version: Int)
    /// 401: unknown, malformed or wrong-secret token — indistinguishable on purpose.
    case invalidToken
    /// 403: the token is genuine but the grant is revoked, expired or used up.
    case denied(GrantState)
}

/// A redemption after its read-only phase (`Redeemer.prepare`), ready for the writer.
public struct PreparedRedemption: Sendable {
    enum Step: Sendable {
        /// A denial: record it, then answer.
        case deny(outcome: RedemptionOutcome, auditBody: [UInt8])
        /// An approval as of the read: count it if the grant is unchanged, record it, then release.
        case redeem(grantRow: Int64, grantID: String, version: Int, outcome: RedemptionOutcome, auditBody: [UInt8])
        /// Not settled by the read: the writer does it all.
        case full
    }

    let request: RedemptionRequest
    let step: Step
}

/// The server-side redemption: works from the vault file alone, without the passphrase.
public final class Redeemer: Sendable {
    let database: VaultDatabase
    let audit: AuditWriter
    let clock: VaultClock
    /// Grant rows the writer has read, by selector: what `prepare` works from. They hold only
    /// what the vault file holds (the secret's hash, the share ciphertext), and may be stale —
    /// the commit's guarded UPDATE catches any change and the writer redoes that redemption.
    let rows = GrantRowCache()

    public init(database: VaultDatabase, clock: @escaping VaultClock = { Date() }) throws {
        self.database = database
        self.clock = clock
        self.audit = try AuditWriter(vaultBoxPublicKey: database.header.boxPublicKey)
    }

    /// The ETag for a share version.
    public static func etag(version: Int) -> String { "\"v\(version)\"" }

    /// One redemption on its own: `prepare`, then `commit` as a batch of one. No audit entry, no data.
    public func redeem(_ request: RedemptionRequest) throws -> RedemptionOutcome {
        try commit([prepare(request)])[0].get()
    }

    /// `prepare` and `commit` for many requests in one transaction (benchmarks and bulk tools).
    public func redeemBatch(_ requests: [RedemptionRequest]) -> [Result<RedemptionOutcome, any Error>] {
        commit(requests.map(prepare))
    }

    // MARK: Phase 1 — read, check and decrypt, in parallel, without writing

    /// Everything about one redemption that needs no write lock, from the grant row the writer
    /// last read (`GrantRowCache`): the secret check, the state check, the share decryption and
    /// the sealing of the audit body. Runs on the request's own thread, many at once; the single
    /// writer is left with only what must be serialised (see `commit`).
    ///
    /// Grant states only move away from active (revocation, expiry and use limits are final),
    /// so a denial from a cached row is still true at commit; an approval is re-checked by the
    /// commit's guarded UPDATE, and anything that changed since is redone by the writer in full.
    public func prepare(_ request: RedemptionRequest) -> PreparedRedemption {
        let now = Millis.from(clock())
        guard let token = request.token else {
            return deny(request, reason: "invalid_token", grantID: nil, outcome: .invalidToken)
        }
        // A grant the writer has not seen yet, and any conditional request (a 304 must not
        // answer for a grant revoked since it was cached), is done by the writer in full.
        guard request.ifNoneMatch == nil, let row = rows[token.selector] else {
            return PreparedRedemption(request: request, step: .full)
        }
        switch decide(request, token: token, row: row, now: now) {
        case .deny(let reason, let outcome):
            return deny(request, reason: reason, grantID: row.id, outcome: outcome)
        case .release(let version, let body, let binding):
            let sealed = audit.seal(AuditBody(grantID: row.id, version: version, client: request.client, userAgent: request.userAgent))
            return PreparedRedemption(request: request, step: .redeem(
                grantRow: row.rowid, grantID: row.id, version: version,
                outcome: .share(body: body, version: version, binding: binding), auditBody: sealed))
        case .notModified, .failed:
            // A cached row without a share, or whose share does not open, may be stale:
            // the writer reads it afresh.
            return PreparedRedemption(request: request, step: .full)
        }
    }

    /// What a redemption comes to for a grant row: the checks shared by `prepare` (from a
    /// cached row) and `process` (from a fresh read under the write lock).
    enum Decision {
        /// Refused, recorded as `share.denied` with this reason.
        case deny(reason: String, outcome: RedemptionOutcome)
        case notModified(version: Int)
        /// Approved: these bytes go to the vendor once the use is counted and recorded.
        case release(version: Int, body: [UInt8], binding: GrantBinding)
        /// Nothing may be written or released (a missing or tampered share).
        case failed(any Error)
    }

    func decide(_ request: RedemptionRequest, token: GrantToken, row: GrantRow, now: Int64) -> Decision {
        guard token.matches(secretHash: row.secretHash) else {
            return .deny(reason: "invalid_token", outcome: .invalidToken)
        }
        let state = row.state(nowMillis: now)
        guard state == .active else {
            return .deny(reason: state == .usedUp ? "used_up" : state.rawValue, outcome: .denied(state))
        }
        guard let share = row.share else {
            return .failed(VaultError.corrupt("the share of grant \(row.id) is missing"))
        }
        if let tags = request.ifNoneMatch, Self.matches(tags, version: share.version) {
            return .notModified(version: share.version)
        }
        do {
            let (body, binding) = try release(share, of: row, token: token)
            return .release(version: share.version, body: body, binding: binding)
        } catch {
            return .failed(error)
        }
    }

    private func deny(_ request: RedemptionRequest, reason: String, grantID: String?, outcome: RedemptionOutcome) -> PreparedRedemption {
        let sealed = audit.seal(AuditBody(grantID: grantID, client: request.client, userAgent: request.userAgent, reason: reason))
        return PreparedRedemption(request: request, step: .deny(outcome: outcome, auditBody: sealed))
    }

    /// The bytes the vendor receives for `share`: the opened bearer share, or the sealed one wrapped.
    private func release(_ share: (version: Int, body: [UInt8]), of row: GrantRow, token: GrantToken) throws -> ([UInt8], GrantBinding) {
        let binding = GrantBinding(rawValue: row.binding) ?? .bearer
        switch binding {
        case .bearer:
            let key = try token.shareKey(grantID: row.id)
            do {
                let body = try AEAD.open(share.body, key: key,
                                         associatedData: ShareCipher.associatedData(vaultID: database.header.vaultID, grantID: row.id, version: share.version))
                return (body, binding)
            } catch {
                throw VaultError.tampered(table: "shares", id: row.id)
            }
        case .key:
            return (SealedShare(grantID: row.id, version: share.version, sealed: share.body).jsonBytes, binding)
        }
    }

    // MARK: Phase 2 — the serialised write

    /// Group commit: every prepared redemption in one write transaction and one fsync, in
    /// order, so use counts stay exact. A prepared approval costs one guarded UPDATE (still
    /// active, same share version) and one audit INSERT; if the UPDATE finds the grant changed,
    /// the writer redoes that redemption in full. Several approvals of one grant share one
    /// UPDATE (`countAhead`). Nothing is returned before the commit.
    ///
    /// A redemption that fails before writing (a missing or tampered share) fails alone. If a
    /// statement fails, the whole transaction is rolled back and every redemption is redone
    /// alone in its own transaction, so one failure costs only its own request (and a failing
    /// redemption is never answered as a success).
    public func commit(_ prepared: [PreparedRedemption]) -> [Result<RedemptionOutcome, any Error>] {
        guard !prepared.isEmpty else { return [] }
        var seen = SeenRows()
        do {
            let results = try database.writeDirect { db in try write(prepared, seen: &seen, db) }
            remember(seen)
            return results
        } catch {
            guard prepared.count > 1 else { return [.failure(error)] }
            return prepared.map { job in
                var seen = SeenRows()
                do {
                    let result = try database.writeDirect { db in try write([job], seen: &seen, db)[0] }
                    remember(seen)
                    return result
                } catch {
                    return .failure(error)
                }
            }
        }
    }

    /// Grant rows the writer read in a transaction, for the cache once that transaction has
    /// committed (rows read in a rolled-back transaction may hold counts that never happened).
    typealias SeenRows = [(selector: [UInt8], row: GrantRow)]

    private func remember(_ seen: SeenRows) {
        for (selector, row) in seen { rows[selector] = row }
    }

    /// A redemption that failed before it wrote anything (a missing or tampered share): it fails
    /// alone, and the rest of its batch goes on.
    struct RequestFailure: Error {
        let underlying: any Error
    }

    private func write(_ jobs: [PreparedRedemption], seen: inout SeenRows, _ db: Database) throws -> [Result<RedemptionOutcome, any Error>] {
        let now = Millis.from(clock())
        let sql = try Statements(db)
        var tip = try audit.tip(db, insertWriter: sql.registerWriter, lastEntry: sql.lastEntry)
        func full(_ request: RedemptionRequest) throws -> Result<RedemptionOutcome, any Error> {
            do {
                return .success(try process(request, now: now, tip: &tip, seen: &seen, sql))
            } catch let failure as RequestFailure {
                return .failure(failure.underlying)
            }
        }
        let counted = try countAhead(jobs, now: now, sql)
        return try jobs.map { job in
            switch job.step {
            case .deny(let outcome, let sealed):
                try audit.appendSealed(.shareDenied, sealed, atMillis: now, tip: &tip, insert: sql.appendAudit)
                return .success(outcome)
            case .redeem(let rowid, let grantID, let version, let outcome, let sealed):
                guard try counted.contains(Approval(rowid: rowid, version: version))
                        || sql.countUse(rowid: rowid, grantID: grantID, now: now, version: version) else {
                    // Revoked, expired, used up or re-materialised since it was prepared.
                    return try full(job.request)
                }
                try audit.appendSealed(.shareRedeemed, sealed, atMillis: now, tip: &tip, insert: sql.appendAudit)
                return .success(outcome)
            case .full:
                return try full(job.request)
            }
        }
    }

    /// Prepared approvals of one grant at one share version.
    struct Approval: Hashable {
        let rowid: Int64
        let version: Int
    }

    /// Counts, with one guarded UPDATE each, every grant that has several prepared approvals in
    /// the batch, when all of them fit (still active, same share version, enough uses left);
    /// returns the groups so counted. A group that does not fit is left to be counted request by
    /// request, in order, as before. Only done when nothing in the batch was prepared to be done
    /// in full, and only for a grant all of whose approvals in the batch were prepared from one
    /// row at one share version: a request that is redone in full reads its grant's count, and it
    /// must never be a grant counted ahead, whose count already holds uses of requests behind it.
    /// So the outcomes and the share history are exactly those of counting one by one.
    private func countAhead(_ jobs: [PreparedRedemption], now: Int64, _ sql: Statements) throws -> Set<Approval> {
        var groups: [Approval: (grantID: String, count: Int)] = [:]
        for job in jobs {
            switch job.step {
            case .full: return []
            case .deny: continue
            case .redeem(let rowid, let grantID, let version, _, _):
                groups[Approval(rowid: rowid, version: version), default: (grantID, 0)].count += 1
            }
        }
        // A grant prepared at two share versions (or, after a VACUUM, from two row numbers) is
        // left alone: the stale group's full redo would read the other group's uses.
        var groupsPerGrant: [String: Int] = [:]
        for group in groups.values { groupsPerGrant[group.grantID, default: 0] += 1 }
        var counted = Set<Approval>()
        for (approval, group) in groups where group.count > 1 && groupsPerGrant[group.grantID] == 1 {
            if try sql.countUses(group.count, rowid: approval.rowid, grantID: group.grantID, now: now, version: approval.version) {
                counted.insert(approval)
            }
        }
        return counted
    }

    /// The statements the writer runs.
    struct Statements {
        let lookup: RawStatement
        /// Counts uses only if the grant is still active, has that many uses left, and its share
        /// is still at `version`.
        let guardedCount: RawStatement
        let appendAudit: RawStatement
        let registerWriter, lastEntry: RawStatement

        init(_ db: Database) throws {
            registerWriter = try RawStatement(db, AuditWriter.registerSQL)
            lastEntry = try RawStatement(db, AuditWriter.lastEntrySQL)
            lookup = try RawStatement(db, GrantRow.lookupSQL)
            guardedCount = try RawStatement(db, """
                UPDATE grants SET use_count = use_count + ?5
                WHERE rowid = ?1 AND id = ?2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?3)
                  AND (max_uses IS NULL OR use_count + ?5 <= max_uses) AND share_version = ?4
                """)
            appendAudit = try RawStatement(db, AuditWriter.insertSQL)
        }

        /// True when the use was counted.
        func countUse(rowid: Int64, grantID: String, now: Int64, version: Int) throws -> Bool {
            try countUses(1, rowid: rowid, grantID: grantID, now: now, version: version)
        }

        /// True when all `uses` were counted; when they do not all fit, none is.
        func countUses(_ uses: Int, rowid: Int64, grantID: String, now: Int64, version: Int) throws -> Bool {
            guardedCount.bind(1, rowid)
            guardedCount.bind(2, grantID)
            guardedCount.bind(3, now)
            guardedCount.bind(4, Int64(version))
            guardedCount.bind(5, Int64(uses))
            try guardedCount.run()
            return guardedCount.changes == 1
        }
    }

    /// A redemption from scratch, under the write lock: the path for anything `prepare` could
    /// not settle, and for approvals whose grant changed before the commit.
    /// Throws `RequestFailure` when the redemption fails before writing; any other error is the
    /// database's and fails the transaction.
    private func process(_ request: RedemptionRequest, now: Int64, tip: inout AuditWriter.Tip, seen: inout SeenRows,
                         _ sql: Statements) throws -> RedemptionOutcome {
        func deny(_ reason: String, grantID: String?) throws {
            try audit.append(.shareDenied, AuditBody(grantID: grantID, client: request.client, userAgent: request.userAgent, reason: reason),
                             atMillis: now, tip: &tip, insert: sql.appendAudit)
        }
        guard let token = request.token, let row = try GrantRow.fetch(selector: token.selector, sql.lookup) else {
            try deny("invalid_token", grantID: nil)
            return .invalidToken
        }
        // Only rows whose token was presented: an unknown selector leaves the cache alone.
        seen.append((token.selector, row))
        switch decide(request, token: token, row: row, now: now) {
        case .deny(let reason, let outcome):
            try deny(reason, grantID: row.id)
            return outcome
        case .notModified(let version):
            return .notModified(version: version)
        case .failed(let error):
            throw RequestFailure(underlying: error)
        case .release(let version, let body, let binding):
            // Checked in this transaction just now, so the guarded count cannot miss.
            guard try sql.countUse(rowid: row.rowid, grantID: row.id, now: now, version: version) else {
                throw VaultError.storage("grant \(row.id) changed inside its own transaction")
            }
            try audit.append(.shareRedeemed, AuditBody(grantID: row.id, version: version, client: request.client, userAgent: request.userAgent),
                             atMillis: now, tip: &tip, insert: sql.appendAudit)
            return .share(body: body, version: version, binding: binding)
        }
    }

    /// One grant row as the redemption needs it.
    struct GrantRow: Sendable {
        static let lookupSQL = """
            SELECT g.rowid, g.id, g.secret_hash, g.binding, g.revoked_at, g.expires_at, g.max_uses, g.use_count, s.version, s.body
            FROM grants AS g LEFT JOIN shares AS s ON s.grant_id = g.id WHERE g.selector = ?
            """
        var rowid: Int64
        var id: String
        var secretHash: [UInt8]
        var binding: String
        var revokedAt, expiresAt, maxUses: Int64?
        var useCount: Int64
        /// nil when the grant has no share row.
        var share: (version: Int, body: [UInt8])?

        /// The row for `selector`, or nil.
        static func fetch(selector: [UInt8], _ lookup: RawStatement) throws -> GrantRow? {
            lookup.bind(1, selector)
            defer { lookup.reset() }
            guard try lookup.step() else { return nil }
            return GrantRow(
                rowid: lookup.int64(0), id: lookup.text(1), secretHash: lookup.bytes(2), binding: lookup.text(3),
                revokedAt: lookup.optionalInt64(4), expiresAt: lookup.optionalInt64(5), maxUses: lookup.optionalInt64(6),
                useCount: lookup.int64(7),
                share: lookup.isNull(8) ? nil : (Int(lookup.int64(8)), lookup.bytes(9)))
        }

        func state(nowMillis: Int64) -> GrantState {
            GrantState.evaluate(revokedAt: revokedAt, expiresAt: expiresAt, maxUses: maxUses.map { Int($0) }, useCount: Int(useCount), nowMillis: nowMillis)
        }
    }

    static func matches(_ ifNoneMatch: String, version: Int) -> Bool {
        let current = etag(version: version)
        return ifNoneMatch.split(separator: ",").contains { raw in
            var tag = raw.trimmingCharacters(in: .whitespaces)
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == "*" || tag == current
        }
    }

    /// Whether the database answers (for `/readyz`).
    public func isReady() -> Bool {
        (try? database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM vault_header") }) == 1
    }
}

/// The grant rows `Redeemer.prepare` works from, filled by the writer. Bounded: when full it
/// starts again empty (a personal vault has far fewer grants than the bound).
final class GrantRowCache: Sendable {
    static let capacity = 1024
    private let rows = Mutex<[[UInt8]: Redeemer.GrantRow]>([:])

    subscript(selector: [UInt8]) -> Redeemer.GrantRow? {
        get { rows.withLock { $0[selector] } }
        set {
            rows.withLock { rows in
                if newValue != nil, rows.count >= Self.capacity, rows[selector] == nil { rows.removeAll(keepingCapacity: true) }
                rows[selector] = newValue
            }
        }
    }
}
