public import Foundation
import NIOCore
import PostgresNIO
public import VaultCore
import VaultCrypto
import VaultServer

/// The relay's side of `Specs/requests.md` §5–6: each vault's notification key and customer
/// channel (pushed by its CLI), vendors' webhook events (queued by the push that brings a new
/// share version, `RelayDatabase.push`), and the customer's notices. Every node works them off;
/// a row is claimed before it is sent, so two nodes do not send the same event or notice.
extension RelayDatabase {
    /// Stores the vault's notification key and customer channel.
    public func storeNotify(vaultID: [UInt8], notify: RelayWire.Notify) throws {
        guard let publicKey = Base64URL.decode(notify.publicKey), publicKey.count == SigningKeyPair.publicKeyBytes,
            let secret = Base64URL.decode(notify.secretKey), secret.count == SigningKeyPair.secretKeyBytes,
            Array(secret[32...]) == publicKey, notify.certificate.utf8.count <= 4096, (1...128).contains(notify.keyID.utf8.count)
        else { throw RelayError.invalidGrant("the notification key is not well-formed") }
        if let channel = notify.channel {
            guard CustomerChannel.Kind(rawValue: channel.kind) != nil, CustomerChannel.intervals.contains(channel.interval),
                (try? NotifyURL.check(channel.url)) != nil
            else { throw RelayError.invalidGrant("the notification channel is not well-formed") }
        }
        try withConnection { c in
            let updated = try c.query(
                """
                UPDATE relay_vaults SET notify_key_id = \(notify.keyID), notify_public = \(Data(publicKey)), notify_secret = \(Data(secret)),
                    notify_certificate = \(notify.certificate), customer_kind = \(notify.channel?.kind), customer_url = \(notify.channel?.url),
                    customer_interval = \(notify.channel?.interval)
                WHERE id = \(Data(vaultID))
                """)
            guard updated.metadata.rows == 1 else { throw RelayError.unknownVault }
        }
    }

    /// A grant's latest webhook events (at most 20, newest first).
    func webhookEvents(vaultID: [UInt8], grantID: String) throws -> [RelayWire.WebhookEvents.Event] {
        try withConnection { c in
            try c.query(
                """
                SELECT id, created_at, attempts, next_at, last_status, last_error, delivered_at, stopped_at FROM relay_webhooks
                WHERE vault_id = \(Data(vaultID)) AND grant_id = \(grantID) ORDER BY created_at DESC, id LIMIT 20
                """
            ).rows.map { row in
                let (id, created, attempts, next, status, error, delivered, stopped) = try row.decode(
                    (String, Int64, Int32, Int64, Int32?, String?, Int64?, Int64?).self)
                return .init(
                    id: id, createdAt: created, attempts: Int64(attempts), nextAt: next, lastStatus: status.map(Int64.init), lastError: error,
                    deliveredAt: delivered, stoppedAt: stopped)
            }
        }
    }

    /// The vault's notification key as a JWK with its certificate; nil when it has none.
    func notificationJWK(vaultID: [UInt8]) throws -> VaultJWK? {
        try withConnection { c in
            guard
                let row = try c.query("SELECT notify_public, notify_certificate FROM relay_vaults WHERE id = \(Data(vaultID))").rows.first
            else { return nil }
            let (key, certificate) = try row.decode((Data?, String?).self)
            guard let key, let certificate else { return nil }
            return Webhooks.jwk(publicKey: key.bytes, certificate: certificate)
        }
    }
}

/// Vendors' webhook events at the relay.
struct RelayWebhookStore: WebhookStore {
    let database: RelayDatabase
    /// How long a node holds the events it took before another may take them.
    /// Longer than a round can take (`WebhookDeliverer.parallel` at a time, each within its deadline).
    static let claimMillis: Int64 = 300_000
    /// At most this many of one vault's events in a round.
    static let perVault = 4

    func dueDeliveries(nowMillis: Int64, limit: Int) throws -> [WebhookDelivery] {
        try database.withConnection { c in
            var binds = PostgresBindings()
            binds.append(nowMillis)
            binds.append(nowMillis + Self.claimMillis)
            binds.append(Int64(limit))
            binds.append(Int64(Self.perVault))
            // At most `perVault` of one vault's events a round, so that one vault's many events
            // (to a receiver that stalls to the deadline) hold no other vault's. The ranking has
            // no lock; the rows are locked (SKIP LOCKED) and checked again at the outer level.
            // Inside EXISTS the grant's columns are the unqualified ones of the grant-state rule.
            let rows = try c.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE relay_webhooks AS w SET next_at = $2
                        FROM (SELECT id FROM relay_webhooks
                              WHERE delivered_at IS NULL AND stopped_at IS NULL AND next_at <= $1
                                AND id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY vault_id ORDER BY next_at, id) AS n
                                                           FROM relay_webhooks
                                                           WHERE delivered_at IS NULL AND stopped_at IS NULL AND next_at <= $1) AS ranked
                                           WHERE n <= $4)
                              ORDER BY next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) AS due
                        WHERE w.id = due.id
                        RETURNING w.id, w.vault_id, w.grant_id, w.url, w.body, w.created_at, w.attempts,
                            (SELECT notify_secret FROM relay_vaults WHERE id = w.vault_id),
                            EXISTS (SELECT 1 FROM relay_grants AS g WHERE g.vault_id = w.vault_id AND g.id = w.grant_id
                                    AND \(GrantStateSQL.active(now: "$1")))
                        """, binds: binds)
            ).rows
            return try rows.map { row in
                let (id, _, grant, url, body, created, attempts, secret, active) = try row.decode(
                    (String, Data, String, String, Data, Int64, Int32, Data?, Bool).self)
                return WebhookDelivery(
                    id: id, grantID: grant, url: url, body: body.bytes, createdAt: created, attempts: Int(attempts), grantActive: active,
                    signer: try secret.flatMap { try Webhooks.signer($0.bytes) })
            }
        }
    }

    func record(_ delivery: WebhookDelivery, result: WebhookResult, nowMillis: Int64) throws {
        let outcome = Webhooks.outcome(of: result, for: delivery, nowMillis: nowMillis)
        try database.withConnection { c in
            try c.query(
                """
                UPDATE relay_webhooks SET attempts = attempts + 1, last_status = \(outcome.status.map { Int32(clamping: $0) }),
                    last_error = \(outcome.error), next_at = COALESCE(\(outcome.nextAt), next_at),
                    delivered_at = COALESCE(delivered_at, \(outcome.deliveredAt)), stopped_at = COALESCE(stopped_at, \(outcome.stoppedAt))
                WHERE id = \(delivery.id)
                """)
            if outcome.stopsGrant {
                try c.query(
                    """
                    UPDATE relay_webhooks SET stopped_at = \(nowMillis) WHERE grant_id = \(delivery.grantID)
                        AND vault_id = (SELECT vault_id FROM relay_webhooks WHERE id = \(delivery.id)) AND delivered_at IS NULL AND stopped_at IS NULL
                    """)
            }
            // A 410 stays on record: it is what keeps the grant's later events from being made.
            try c.query(
                "DELETE FROM relay_webhooks WHERE COALESCE(delivered_at, stopped_at) < \(nowMillis - 7 * 86_400_000) AND COALESCE(last_status, 0) <> 410")
        }
    }
}

struct NoticeWork: Sendable {
    let batcher: NoticeBatcher
    let channel: CustomerChannel
    let signer: SigningKeyPair?
    let read: (snapshot: ActivitySnapshot, denials: Int, requests: [String])
}

extension RelayDatabase {
    /// The vaults with a customer channel whose notice state no node holds now.
    func vaultsWithNotices(nowMillis: Int64) throws -> [[UInt8]] {
        try withConnection { c in
            try c.query("SELECT id FROM relay_vaults WHERE customer_url IS NOT NULL AND COALESCE(notice_claimed_until, 0) < \(nowMillis)").rows
                .map { try $0.decode(Data.self).bytes }
        }
    }

    /// Claims the vault's notice state for 30 s and reads its activity since; nil when another
    /// node holds it, or the vault has no channel.
    func claimNotice(vaultID: [UInt8], nowMillis: Int64) throws -> NoticeWork? {
        try transaction { c in
            guard
                let row = try c.query(
                    """
                    UPDATE relay_vaults SET notice_claimed_until = \(nowMillis + 30_000)
                    WHERE id = \(Data(vaultID)) AND customer_url IS NOT NULL AND COALESCE(notice_claimed_until, 0) < \(nowMillis)
                    RETURNING notice_state, customer_kind, customer_url, customer_interval, notify_secret, tip_seq
                    """
                ).rows.first
            else { return nil }
            let (state, kind, url, interval, secret, tip) = try row.decode((String?, String?, String?, Int64?, Data?, Int64).self)
            guard let kind = kind.flatMap(CustomerChannel.Kind.init(rawValue:)), let url else { return nil }
            let batcher = state.flatMap { try? JSONDecoder().decode(NoticeBatcher.self, from: Data($0.utf8)) } ?? NoticeBatcher()
            var uses: [String: Int64] = [:]
            var revoked: Set<String> = []
            for grant in try c.query("SELECT id, use_count, revoked_at IS NOT NULL FROM relay_grants WHERE vault_id = \(Data(vaultID))").rows {
                let (id, count, isRevoked) = try grant.decode((String, Int64, Bool).self)
                uses[id] = count
                if isRevoked { revoked.insert(id) }
            }
            let since = batcher.seen
            let denials =
                try c.query(
                    """
                    SELECT count(*) FROM relay_entries WHERE vault_id = \(Data(vaultID)) AND seq > \(since?.lastEntry ?? Int64.max)
                        AND event = \(AuditEvent.shareDenied.rawValue)
                    """
                ).rows.first?.decode(Int64.self) ?? 0
            let requestRows = try c.query(
                """
                SELECT id, seq FROM relay_requests WHERE vault_id = \(Data(vaultID)) AND seq > \(since?.lastRequest ?? Int64.max)
                ORDER BY seq LIMIT 100
                """
            ).rows.map { try $0.decode((String, Int64).self) }
            let lastRequest =
                try c.query("SELECT COALESCE(max(seq), 0) FROM relay_requests WHERE vault_id = \(Data(vaultID))").rows.first?.decode(Int64.self) ?? 0
            return NoticeWork(
                batcher: batcher, channel: CustomerChannel(kind: kind, url: url, interval: interval ?? CustomerChannel.defaultInterval),
                signer: try secret.flatMap { try Webhooks.signer($0.bytes) },
                read: (ActivitySnapshot(uses: uses, revoked: revoked, lastEntry: tip, lastRequest: lastRequest), Int(denials), requestRows.map(\.0)))
        }
    }

    /// Writes the notice state back and lets any node take the vault again.
    func releaseNotice(vaultID: [UInt8], state: NoticeBatcher) throws {
        let text = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        try withConnection { c in
            try c.query("UPDATE relay_vaults SET notice_state = \(text), notice_claimed_until = NULL WHERE id = \(Data(vaultID))")
        }
    }
}
