public import Foundation
public import GRDB
public import VaultCrypto

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

/// The server-side redemption: works from the vault file alone, without the passphrase.
public final class Redeemer: Sendable {
    let database: VaultDatabase
    let audit: AuditWriter
    let clock: VaultClock

    public init(database: VaultDatabase, clock: @escaping VaultClock = { Date() }) throws {
        self.database = database
        self.clock = clock
        self.audit = try AuditWriter(vaultBoxPublicKey: database.header.boxPublicKey)
    }

    /// The ETag for a share version.
    public static func etag(version: Int) -> String { "\"v\(version)\"" }

    /// One write transaction: check the grant, count the use, append the audit entry, commit —
    /// and only then return the share. No audit entry, no data.
    public func redeem(_ request: RedemptionRequest) throws -> RedemptionOutcome {
        try redeemBatch([request])[0].get()
    }

    /// Group commit: every request in one write transaction and one fsync, each in its own
    /// savepoint, processed in order so use counts stay exact. Nothing is returned before the
    /// commit; if the commit fails, every request fails and nothing was released.
    public func redeemBatch(_ requests: [RedemptionRequest]) throws -> [Result<RedemptionOutcome, any Error>] {
        return try database.write { db -> [Result<RedemptionOutcome, any Error>] in
            let now = Millis.from(clock())
            var tip = try audit.tip(db)
            var results: [Result<RedemptionOutcome, any Error>] = []
            results.reserveCapacity(requests.count)
            for request in requests {
                let token = request.token
                var outcome: Result<RedemptionOutcome, any Error> = .failure(VaultError.storage("not processed"))
                let savedTip = tip
                // Cached statements for the per-request savepoint: GRDB's inSavepoint prepares its
                // SQL each time, and this runs for every redemption.
                try db.cachedStatement(sql: "SAVEPOINT redemption").execute()
                do {
                    outcome = .success(try process(request, token: token, now: now, tip: &tip, db))
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT redemption").execute()
                } catch {
                    try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT redemption").execute()
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT redemption").execute()
                    tip = savedTip
                    outcome = .failure(error)
                }
                results.append(outcome)
            }
            return results
        }
    }

    private func process(_ request: RedemptionRequest, token: GrantToken?, now: Int64, tip: inout AuditWriter.Tip,
                         _ db: Database) throws -> RedemptionOutcome {
        func deny(_ reason: String, grantID: String?) throws {
            try audit.append(.shareDenied, AuditBody(grantID: grantID, client: request.client, userAgent: request.userAgent, reason: reason),
                             atMillis: now, tip: &tip, db)
        }
        guard let token,
              let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, secret_hash, binding, revoked_at, expires_at, max_uses, use_count FROM grants WHERE selector = ?"),
                                         arguments: [Data(token.selector)])
        else {
            try deny("invalid_token", grantID: nil)
            return .invalidToken
        }
        let grantID: String = row["id"]
        guard token.matches(secretHash: row.bytes("secret_hash")) else {
            try deny("invalid_token", grantID: grantID)
            return .invalidToken
        }
        let useCount: Int = row["use_count"]
        let state = GrantState.evaluate(revokedAt: row["revoked_at"], expiresAt: row["expires_at"], maxUses: row["max_uses"],
                                        useCount: useCount, nowMillis: now)
        guard state == .active else {
            try deny(state == .usedUp ? "used_up" : state.rawValue, grantID: grantID)
            return .denied(state)
        }
        guard let share = try Row.fetchOne(db.cachedStatement(sql: "SELECT version, body FROM shares WHERE grant_id = ?"), arguments: [grantID]) else {
            throw VaultError.corrupt("the share of grant \(grantID) is missing")
        }
        let version: Int = share["version"]
        if let tags = request.ifNoneMatch, Self.matches(tags, version: version) {
            return .notModified(version: version)
        }
        let binding = GrantBinding(rawValue: row["binding"]) ?? .bearer
        let body: [UInt8]
        switch binding {
        case .bearer:
            let key = try token.shareKey(grantID: grantID)
            do {
                body = try AEAD.open(share.bytes("body"), key: key,
                                     associatedData: ShareCipher.associatedData(vaultID: database.header.vaultID, grantID: grantID, version: version))
            } catch {
                throw VaultError.tampered(table: "shares", id: grantID)
            }
        case .key:
            body = SealedShare(grantID: grantID, version: version, sealed: share.bytes("body")).jsonBytes
        }
        try db.cachedStatement(sql: "UPDATE grants SET use_count = use_count + 1 WHERE id = ?").execute(arguments: [grantID])
        try audit.append(.shareRedeemed, AuditBody(grantID: grantID, version: version, client: request.client, userAgent: request.userAgent),
                         atMillis: now, tip: &tip, db)
        return .share(body: body, version: version, binding: binding)
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
