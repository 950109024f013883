import Foundation
import GRDB
import VaultCrypto

/// A `request_links` row (`Specs/requests.md` §1).
struct RequestLinkRow: Sendable {
    var selector: [UInt8]
    var codeHash: [UInt8]
    var createdAt: Int64
    var expiresAt: Int64
    /// The CLI's sealed `RequestLinkSecret`.
    var sealed: [UInt8]
    /// Set by the endpoint when a request used the code.
    var usedAt: Int64?
}

/// An `access_requests` row (`Specs/requests.md` §2–4).
struct AccessRequestRow: Sendable {
    var id: String
    var linkSelector: [UInt8]
    var sealed: [UInt8]
    /// The request's proof (keyed by the code's secret), which the CLI checks.
    var proof: [UInt8]
    var receivedAt: Int64
    var status: String
    var decidedAt: Int64?
    var grantID: String?
    var endpoint: String?
    var tokenSealed: [UInt8]?
    var decisionSealed: [UInt8]?
}

/// A `notify_outbox` row: one event for a vendor's webhook and how its delivery stands.
struct NotifyOutboxRow: Sendable {
    var id: String
    var grantID: String
    var url: String
    var body: [UInt8]
    var createdAt: Int64
    var attempts: Int
    var nextAt: Int64
    var lastStatus: Int?
    var lastError: String?
    var deliveredAt: Int64?
    var stoppedAt: Int64?
}

/// The `notify_settings` row: the notification key (its certificate by the vault key) and the
/// customer's own notification channel.
struct NotifySettingsRow: Sendable {
    var keyID: String
    var publicKey: [UInt8]
    var secretKey: [UInt8]
    var certificate: String
    var customerKind: String?
    var customerURL: String?
    /// Seconds between two notices at most one of which is sent (default 60).
    var customerInterval: Int64?
}

/// Strict reads of a GRDB row: a value of the wrong type is a corrupt vault, never a trap.
private struct StrictRow {
    let row: Row
    let table: String

    func blob(_ column: String) throws -> [UInt8] {
        guard let data = Data.fromDatabaseValue(row[column] as DatabaseValue) else { throw bad(column) }
        return Array(data)
    }

    func optionalBlob(_ column: String) throws -> [UInt8]? {
        let value: DatabaseValue = row[column]
        if value.isNull { return nil }
        return try blob(column)
    }

    func integer(_ column: String) throws -> Int64 {
        guard let value = Int64.fromDatabaseValue(row[column] as DatabaseValue) else { throw bad(column) }
        return value
    }

    func optionalInteger(_ column: String) throws -> Int64? {
        let value: DatabaseValue = row[column]
        if value.isNull { return nil }
        return try integer(column)
    }

    func text(_ column: String) throws -> String {
        guard case .string(let text) = (row[column] as DatabaseValue).storage else { throw bad(column) }
        return text
    }

    func optionalText(_ column: String) throws -> String? {
        let value: DatabaseValue = row[column]
        if value.isNull { return nil }
        return try text(column)
    }

    private func bad(_ column: String) -> VaultError {
        VaultError.corrupt("\(table).\(column) holds a value of the wrong type")
    }
}

/// `request_links` and `access_requests`: the CLI makes links and decides; the endpoint
/// takes requests (`Specs/requests.md`).
struct RequestTables {
    let db: Database

    func insertLink(_ link: RequestLinkRow) throws {
        try db.execute(
            sql: "INSERT INTO request_links (selector, code_hash, created_at, expires_at, sealed, used_at) VALUES (?, ?, ?, ?, ?, NULL)",
            arguments: [Data(link.selector), Data(link.codeHash), link.createdAt, link.expiresAt, Data(link.sealed)])
        try queueForRelay(RelayQueueID.link(link.selector))
    }

    func link(selector: [UInt8]) throws -> RequestLinkRow? {
        try Row.fetchOne(db, sql: "SELECT * FROM request_links WHERE selector = ?", arguments: [Data(selector)]).map(Self.link)
    }

    func links() throws -> [RequestLinkRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM request_links ORDER BY created_at, selector").map(Self.link)
    }

    /// Marks the code used, if it is not yet: false when another request used it first.
    func markUsed(selector: [UInt8], atMillis: Int64) throws -> Bool {
        try db.execute(
            sql: "UPDATE request_links SET used_at = ? WHERE selector = ? AND used_at IS NULL", arguments: [atMillis, Data(selector)])
        return db.changesCount == 1
    }

    /// Deletes links that expired before `beforeMillis` and that no request came with (the
    /// `used_at` the endpoint sets is not trusted for this: a link a request names is kept).
    func deleteUnusedLinks(expiredBefore beforeMillis: Int64) throws {
        try db.execute(
            sql: """
                DELETE FROM request_links WHERE used_at IS NULL AND expires_at < ?
                AND NOT EXISTS (SELECT 1 FROM access_requests WHERE access_requests.link_selector = request_links.selector)
                """, arguments: [beforeMillis])
    }

    /// Replaces a link's sealed part (it records the request that was answered).
    func resealLink(selector: [UInt8], sealed: [UInt8]) throws {
        try db.execute(sql: "UPDATE request_links SET sealed = ? WHERE selector = ?", arguments: [Data(sealed), Data(selector)])
    }

    func insertRequest(id: String, linkSelector: [UInt8], sealed: [UInt8], proof: [UInt8], receivedAt: Int64) throws {
        try db.execute(
            sql: "INSERT INTO access_requests (id, link_selector, sealed, proof, received_at, status) VALUES (?, ?, ?, ?, ?, 'pending')",
            arguments: [id, Data(linkSelector), Data(sealed), Data(proof), receivedAt])
    }

    func request(id: String) throws -> AccessRequestRow? {
        try Row.fetchOne(db, sql: "SELECT * FROM access_requests WHERE id = ?", arguments: [id]).map(Self.request)
    }

    /// The ids of the requests that name a link (a code admits one request: more are copies).
    func requestIDs(linkSelector: [UInt8]) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT id FROM access_requests WHERE link_selector = ? ORDER BY id", arguments: [Data(linkSelector)])
    }

    func requests() throws -> [AccessRequestRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM access_requests ORDER BY received_at DESC, id").map(Self.request)
    }

    /// Records the CLI's decision: the columns the endpoint answers from, and the sealed copy
    /// the CLI trusts.
    func decide(_ row: AccessRequestRow) throws {
        try db.execute(
            sql: """
                UPDATE access_requests SET status = ?, decided_at = ?, grant_id = ?, endpoint = ?, token_sealed = ?, decision_sealed = ?
                WHERE id = ?
                """,
            arguments: [
                row.status, row.decidedAt, row.grantID, row.endpoint, row.tokenSealed.map { Data($0) }, row.decisionSealed.map { Data($0) },
                row.id,
            ])
        try queueForRelay(row.id)
    }

    /// Replaces the CLI's sealed decision (a key rotation).
    func setDecision(id: String, sealed: [UInt8]) throws {
        try db.execute(sql: "UPDATE access_requests SET decision_sealed = ? WHERE id = ?", arguments: [Data(sealed), id])
    }

    /// Stores a request pulled from a relay (the relay's copy; nothing if the vault has it),
    /// and marks its link used, as the relay did.
    func insertPulled(_ row: AccessRequestRow) throws {
        try db.execute(
            sql: "UPDATE request_links SET used_at = ? WHERE selector = ? AND used_at IS NULL", arguments: [row.receivedAt, Data(row.linkSelector)])
        try db.execute(
            sql: "INSERT OR IGNORE INTO access_requests (id, link_selector, sealed, proof, received_at, status) VALUES (?, ?, ?, ?, ?, 'pending')",
            arguments: [row.id, Data(row.linkSelector), Data(row.sealed), Data(row.proof), row.receivedAt])
    }

    /// Deletes sealed tokens of decisions older than `beforeMillis` (kept 7 days for the vendor).
    func dropSealedTokens(decidedBefore beforeMillis: Int64) throws {
        try db.execute(
            sql: "UPDATE access_requests SET token_sealed = NULL WHERE token_sealed IS NOT NULL AND decided_at < ?", arguments: [beforeMillis])
    }

    private func queueForRelay(_ id: String) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO relay_outbox (grant_id) SELECT ? WHERE EXISTS (SELECT 1 FROM relay_link)", arguments: [id])
    }

    private static func link(_ row: Row) throws -> RequestLinkRow {
        let r = StrictRow(row: row, table: "request_links")
        return RequestLinkRow(
            selector: try r.blob("selector"), codeHash: try r.blob("code_hash"), createdAt: try r.integer("created_at"),
            expiresAt: try r.integer("expires_at"), sealed: try r.blob("sealed"), usedAt: try r.optionalInteger("used_at"))
    }

    private static func request(_ row: Row) throws -> AccessRequestRow {
        let r = StrictRow(row: row, table: "access_requests")
        return AccessRequestRow(
            id: try r.text("id"), linkSelector: try r.blob("link_selector"), sealed: try r.blob("sealed"), proof: try r.blob("proof"),
            receivedAt: try r.integer("received_at"), status: try r.text("status"), decidedAt: try r.optionalInteger("decided_at"),
            grantID: try r.optionalText("grant_id"), endpoint: try r.optionalText("endpoint"), tokenSealed: try r.optionalBlob("token_sealed"),
            decisionSealed: try r.optionalBlob("decision_sealed"))
    }
}

/// What `relay_outbox` holds besides grant ids: request links (`lk:` + selector hex) and
/// access-request decisions (their `rq_` ids).
enum RelayQueueID {
    /// The notification settings (key, certificate, customer channel).
    static let notify = "nt:settings"
    static let linkPrefix = "lk:"
    static func link(_ selector: [UInt8]) -> String { linkPrefix + Hex.encode(selector) }
}

/// `grant_notify`, `notify_outbox` and `notify_settings` (`Specs/requests.md` §5–6).
struct NotifyTables {
    let db: Database

    func setGrantURL(grantID: String, url: String) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO grant_notify (grant_id, url) VALUES (?, ?)", arguments: [grantID, url])
    }

    /// Queues an event for the grant's webhook, if it has one — unless a linked relay serves
    /// the grant (it makes the event itself when the push brings the version), or the webhook
    /// answered 410 Gone (no more events for this grant).
    func enqueue(id: String, grantID: String, body: [UInt8], atMillis: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO notify_outbox (id, grant_id, url, body, created_at, attempts, next_at)
                SELECT ?1, grant_id, url, ?2, ?3, 0, ?3 FROM grant_notify WHERE grant_id = ?4
                AND NOT EXISTS (SELECT 1 FROM relay_link)
                AND NOT EXISTS (SELECT 1 FROM notify_outbox WHERE grant_id = ?4 AND last_status = 410)
                """,
            arguments: [id, Data(body), atMillis, grantID])
    }

    /// Whether the grant is active by its plaintext columns (the endpoint's view).
    func grantIsActive(_ grantID: String, nowMillis: Int64) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM grants WHERE id = ?1 AND \(GrantStateSQL.active(now: "?2")))", arguments: [grantID, nowMillis])
            ?? false
    }

    /// Drops the undelivered events of a grant that ended.
    func dropPending(grantID: String, atMillis: Int64) throws {
        try db.execute(
            sql: """
                UPDATE notify_outbox SET stopped_at = ?, last_error = 'not sent: the grant was revoked'
                WHERE grant_id = ? AND delivered_at IS NULL AND stopped_at IS NULL
                """, arguments: [atMillis, grantID])
    }

    /// The events due at `nowMillis`, oldest first.
    func due(nowMillis: Int64, limit: Int) throws -> [NotifyOutboxRow] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM notify_outbox WHERE delivered_at IS NULL AND stopped_at IS NULL AND next_at <= ?
                ORDER BY next_at, id LIMIT ?
                """, arguments: [nowMillis, limit]
        ).map(Self.event)
    }

    /// A grant's events, newest first.
    func events(grantID: String, limit: Int = 20) throws -> [NotifyOutboxRow] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM notify_outbox WHERE grant_id = ? ORDER BY created_at DESC, id LIMIT ?", arguments: [grantID, limit]
        ).map(Self.event)
    }

    /// Records one delivery attempt.
    func recordAttempt(
        id: String, status: Int?, error: String?, nextAt: Int64?, deliveredAt: Int64?, stoppedAt: Int64?
    ) throws {
        try db.execute(
            sql: """
                UPDATE notify_outbox SET attempts = attempts + 1, last_status = ?, last_error = ?, next_at = coalesce(?, next_at),
                    delivered_at = coalesce(delivered_at, ?), stopped_at = coalesce(stopped_at, ?) WHERE id = ?
                """, arguments: [status, error, nextAt, deliveredAt, stoppedAt, id])
    }

    /// Stops every undelivered event of a grant (its webhook answered 410 Gone).
    func stopGrant(grantID: String, atMillis: Int64) throws {
        try db.execute(
            sql: "UPDATE notify_outbox SET stopped_at = ? WHERE grant_id = ? AND delivered_at IS NULL AND stopped_at IS NULL",
            arguments: [atMillis, grantID])
    }

    /// Deletes events delivered or stopped before `beforeMillis`.
    func prune(before beforeMillis: Int64) throws {
        try db.execute(
            sql: "DELETE FROM notify_outbox WHERE coalesce(delivered_at, stopped_at) < ? AND coalesce(last_status, 0) != 410",
            arguments: [beforeMillis])
    }

    func settings() throws -> NotifySettingsRow? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM notify_settings WHERE id = 1") else { return nil }
        let r = StrictRow(row: row, table: "notify_settings")
        return NotifySettingsRow(
            keyID: try r.text("key_id"), publicKey: try r.blob("public_key"), secretKey: try r.blob("secret_key"),
            certificate: try r.text("certificate"), customerKind: try r.optionalText("customer_kind"),
            customerURL: try r.optionalText("customer_url"), customerInterval: try r.optionalInteger("customer_interval"))
    }

    func setSettings(_ settings: NotifySettingsRow) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO notify_settings (id, key_id, public_key, secret_key, certificate, customer_kind, customer_url,
                    customer_interval)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                settings.keyID, Data(settings.publicKey), Data(settings.secretKey), settings.certificate, settings.customerKind,
                settings.customerURL, settings.customerInterval,
            ])
        try db.execute(
            sql: "INSERT OR IGNORE INTO relay_outbox (grant_id) SELECT ? WHERE EXISTS (SELECT 1 FROM relay_link)", arguments: [RelayQueueID.notify])
    }

    private static func event(_ row: Row) throws -> NotifyOutboxRow {
        let r = StrictRow(row: row, table: "notify_outbox")
        return NotifyOutboxRow(
            id: try r.text("id"), grantID: try r.text("grant_id"), url: try r.text("url"), body: try r.blob("body"),
            createdAt: try r.integer("created_at"), attempts: Int(truncatingIfNeeded: try r.integer("attempts")), nextAt: try r.integer("next_at"),
            lastStatus: try r.optionalInteger("last_status").map { Int(truncatingIfNeeded: $0) }, lastError: try r.optionalText("last_error"),
            deliveredAt: try r.optionalInteger("delivered_at"), stoppedAt: try r.optionalInteger("stopped_at"))
    }
}

/// What the endpoint reads to tell the customer of activity (`CustomerNotices.swift`).
extension NotifyTables {
    /// Each grant's use count, and the revoked grants.
    func grantActivity() throws -> (uses: [String: Int64], revoked: Set<String>) {
        var uses: [String: Int64] = [:]
        var revoked: Set<String> = []
        for row in try Row.fetchAll(db, sql: "SELECT id, use_count, revoked_at IS NOT NULL AS revoked FROM grants") {
            guard let id = String.fromDatabaseValue(row["id"]) else { continue }
            uses[id] = Int64.fromDatabaseValue(row["use_count"]) ?? 0
            if Bool.fromDatabaseValue(row["revoked"]) == true { revoked.insert(id) }
        }
        return (uses, revoked)
    }

    /// The newest history entry, and how many entries of `event` follow `after`.
    func entries(after: Int64, event: String) throws -> (last: Int64, count: Int) {
        let last = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM audit") ?? 0
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit WHERE seq > ? AND event = ?", arguments: [after, event]) ?? 0
        return (last, count)
    }

    /// The newest request row, and the ids of the requests after `after`.
    func requests(after: Int64) throws -> (last: Int64, ids: [String]) {
        let last = try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM access_requests") ?? 0
        let ids = try String.fetchAll(db, sql: "SELECT id FROM access_requests WHERE rowid > ? ORDER BY rowid LIMIT 100", arguments: [after])
        return (last, ids)
    }
}

extension StorageTransaction {
    var requests: RequestTables { RequestTables(db: db) }
    var notify: NotifyTables { NotifyTables(db: db) }
}
