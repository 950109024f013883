public import Foundation
public import VaultCrypto

/// One queued change event for a vendor's webhook (`Specs/requests.md` §5), ready to send.
public struct WebhookDelivery: Sendable {
    public let id: String
    public let grantID: String
    public let url: String
    /// The event JSON (`{"type": "share.updated", …}`): ids and a version, never data.
    public let body: [UInt8]
    public let createdAt: Int64
    /// Attempts made before this one.
    public let attempts: Int
    /// Whether the grant is still active as the endpoint sees it; an ended grant's events stop.
    public let grantActive: Bool
    /// The vault's notification key, which signs the event; nil when the vault has none.
    public let signer: SigningKeyPair?

    public init(
        id: String, grantID: String, url: String, body: [UInt8], createdAt: Int64, attempts: Int, grantActive: Bool, signer: SigningKeyPair?
    ) {
        self.signer = signer
        self.id = id
        self.grantID = grantID
        self.url = url
        self.body = body
        self.createdAt = createdAt
        self.attempts = attempts
        self.grantActive = grantActive
    }
}

/// What one attempt came to.
public enum WebhookResult: Sendable, Equatable {
    /// A 2xx answer.
    case delivered(status: Int)
    /// 410 Gone: the vendor wants no more events for this grant.
    case gone
    /// Another status, or no answer (`error` says why).
    case failed(status: Int?, error: String)
    /// Not sent: the grant ended.
    case grantEnded
    /// Not sent: the vault has no notification key (its row is gone).
    case noKey
    /// Not sent: the endpoint does not send to this URL (`why`; a relay and its own machine).
    case notAllowed(String)
}

/// Where the endpoint's webhook deliveries are kept: the vault file (`vrm serve`) or the relay.
public protocol WebhookStore: Sendable {
    /// Events due at `nowMillis`, oldest first.
    func dueDeliveries(nowMillis: Int64, limit: Int) throws -> [WebhookDelivery]
    /// Records an attempt: delivered, stopped, or the next try.
    func record(_ delivery: WebhookDelivery, result: WebhookResult, nowMillis: Int64) throws
}

/// Standard Webhooks 1.0 with the `v1a` (Ed25519) scheme, and the retry schedule of §5.
public enum Webhooks {
    /// Seconds to wait after the 1st, 2nd, … failed attempt; then hourly until 24 h after the event.
    public static let retryDelays: [Int64] = [5, 30, 120, 600, 3600]
    public static let giveUpAfterMillis: Int64 = 24 * 3_600_000

    /// When to try again after `attempts` failed attempts (this one included); nil: give up.
    public static func nextAttempt(attempts: Int, createdAt: Int64, nowMillis: Int64) -> Int64? {
        let delay = retryDelays[min(max(attempts, 1), retryDelays.count) - 1] * 1000
        let next = nowMillis.saturatingAdd(delay)
        return next <= createdAt.saturatingAdd(giveUpAfterMillis) ? next : nil
    }

    /// The event body: `{"data":{"grant_id","share_version"},"timestamp","type":"share.updated"}`.
    public static func shareUpdated(grantID: String, version: Int, atMillis: Int64) -> [UInt8] {
        struct Event: Encodable {
            struct Data: Encodable {
                var grantID: String
                var shareVersion: Int
                enum CodingKeys: String, CodingKey {
                    case grantID = "grant_id", shareVersion = "share_version"
                }
            }
            var data: Data
            var timestamp: String
            var type = "share.updated"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let event = Event(data: .init(grantID: grantID, shareVersion: version), timestamp: Timestamp.string(millis: atMillis))
        return Array((try? encoder.encode(event)) ?? Foundation.Data())
    }

    /// What an attempt's result writes to its event, at either endpoint.
    public struct Outcome: Sendable, Equatable {
        public let status: Int?
        public let error: String?
        public let nextAt: Int64?
        public let deliveredAt: Int64?
        public let stoppedAt: Int64?
        /// The grant's other undelivered events stop too (410, or the grant ended).
        public let stopsGrant: Bool
    }

    public static func outcome(of result: WebhookResult, for delivery: WebhookDelivery, nowMillis: Int64) -> Outcome {
        func stopped(_ status: Int?, _ error: String, grant: Bool) -> Outcome {
            Outcome(status: status, error: error, nextAt: nil, deliveredAt: nil, stoppedAt: nowMillis, stopsGrant: grant)
        }
        switch result {
        case .delivered(let status):
            return Outcome(status: status, error: nil, nextAt: nil, deliveredAt: nowMillis, stoppedAt: nil, stopsGrant: false)
        case .gone: return stopped(410, "410 Gone: no more events for this grant", grant: true)
        case .grantEnded: return stopped(nil, "not sent: the grant ended", grant: true)
        case .noKey: return stopped(nil, "not sent: the vault has no notification key", grant: false)
        case .notAllowed(let why): return stopped(nil, why, grant: false)
        case .failed(let status, let error):
            let next = nextAttempt(attempts: delivery.attempts.saturatingAdd(1), createdAt: delivery.createdAt, nowMillis: nowMillis)
            return Outcome(
                status: status, error: next == nil ? "\(error); gave up after 24 hours" : error, nextAt: next, deliveredAt: nil,
                stoppedAt: next == nil ? nowMillis : nil, stopsGrant: false)
        }
    }

    /// The notification key from its stored 64-byte libsodium secret (copied into secure memory;
    /// `bytes` is wiped); nil when it has the wrong length.
    public static func signer(_ bytes: [UInt8]) throws -> SigningKeyPair? {
        var copy = bytes
        defer { Wipe.bytes(&copy) }
        guard copy.count == SigningKeyPair.secretKeyBytes else { return nil }
        return try SigningKeyPair(secretKey: try SecretKey(wiping: &copy))
    }

    /// A new event id (`msg_` + 26 base32 characters).
    public static func eventID() -> String { "msg_" + Base32.encode(Random.bytes(16)) }

    /// The `webhook-signature` value: `v1a,` + standard base64 of the Ed25519 signature over
    /// `"{id}.{timestamp}.{body}"`.
    public static func signature(id: String, timestamp: Int64, body: [UInt8], key: SigningKeyPair) -> String {
        "v1a," + Data(key.sign(Array("\(id).\(timestamp).".utf8) + body)).base64EncodedString()
    }

    /// Whether one of the space-separated `v1a,` signatures in `header` verifies (a receiver's check).
    public static func verify(header: String, id: String, timestamp: Int64, body: [UInt8], publicKey: [UInt8]) -> Bool {
        let message = Array("\(id).\(timestamp).".utf8) + body
        return header.split(separator: " ").contains { entry in
            guard entry.hasPrefix("v1a,"), let signature = Data(base64Encoded: String(entry.dropFirst(4))) else { return false }
            return Signature.verify(Array(signature), message: message, publicKey: publicKey)
        }
    }

    /// The JWK of the notification key, certified by the vault's signing key (§5): a compact
    /// JWS over `{"iat","kid","x"}` with the header `{"alg":"Ed25519","kid":<vault kid>,"typ":"vrm-notify-key+jwt"}`.
    static func certificate(notificationKey: [UInt8], vaultKey: SigningKeyPair, atSeconds: Int64) -> (kid: String, certificate: String) {
        let x = Base64URL.encode(notificationKey)
        let kid = VaultJWK.thumbprint(x: x)
        let header = "{\"alg\":\"Ed25519\",\"kid\":\"\(VaultJWK(publicKey: vaultKey.publicKey).thumbprint)\",\"typ\":\"vrm-notify-key+jwt\"}"
        let payload = "{\"iat\":\(atSeconds),\"kid\":\"\(kid)\",\"x\":\"\(x)\"}"
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return (kid, signingInput + "." + Base64URL.encode(vaultKey.sign(Array(signingInput.utf8))))
    }

    /// The notification key's entry in the JWK Set.
    public static func jwk(publicKey: [UInt8], certificate: String) -> VaultJWK {
        var jwk = VaultJWK(publicKey: publicKey)
        jwk.vrmUse = "notify"
        jwk.vrmCertificate = certificate
        return jwk
    }
}

extension NotifyTables {
    /// The vault's notification key row, made (with its certificate by the vault's signing key)
    /// the first time a grant or the customer needs one.
    func ensureKey(keys: VaultKeys, nowMillis: Int64) throws -> NotifySettingsRow {
        if let existing = try settings() { return existing }
        let pair = try SigningKeyPair.generate()
        let (kid, certificate) = Webhooks.certificate(notificationKey: pair.publicKey, vaultKey: keys.signing, atSeconds: nowMillis / 1000)
        let row = NotifySettingsRow(
            keyID: kid, publicKey: pair.publicKey, secretKey: pair.secretKey.exposedCopy(), certificate: certificate, customerKind: nil,
            customerURL: nil, customerInterval: nil)
        try setSettings(row)
        return row
    }
}

/// `vrm serve`'s webhook store: the vault file's `notify_outbox`, worked off without the key.
public struct VaultWebhookStore: WebhookStore {
    let database: VaultDatabase

    public init(database: VaultDatabase) {
        self.database = database
    }

    public func dueDeliveries(nowMillis: Int64, limit: Int) throws -> [WebhookDelivery] {
        try database.read { transaction in
            let due = try transaction.notify.due(nowMillis: nowMillis, limit: limit)
            guard !due.isEmpty else { return [] }
            let signer = try transaction.notify.settings().flatMap { row in try Webhooks.signer(row.secretKey) }
            return try due.map { row in
                WebhookDelivery(
                    id: row.id, grantID: row.grantID, url: row.url, body: row.body, createdAt: row.createdAt, attempts: row.attempts,
                    grantActive: try transaction.notify.grantIsActive(row.grantID, nowMillis: nowMillis), signer: signer)
            }
        }
    }

    public func record(_ delivery: WebhookDelivery, result: WebhookResult, nowMillis: Int64) throws {
        try database.write { transaction in
            let notify = transaction.notify
            let outcome = Webhooks.outcome(of: result, for: delivery, nowMillis: nowMillis)
            try notify.recordAttempt(
                id: delivery.id, status: outcome.status, error: outcome.error, nextAt: outcome.nextAt, deliveredAt: outcome.deliveredAt,
                stoppedAt: outcome.stoppedAt)
            if outcome.stopsGrant { try notify.stopGrant(grantID: delivery.grantID, atMillis: nowMillis) }
            try notify.prune(before: nowMillis.saturatingSubtract(7 * 86_400_000))
        }
    }

    /// The notification key's JWK (with its certificate), for the JWK Set; nil when there is none.
    public func notificationJWK() throws -> VaultJWK? {
        try database.read { transaction in
            guard let row = try transaction.notify.settings() else { return nil }
            return Webhooks.jwk(publicKey: row.publicKey, certificate: row.certificate)
        }
    }
}

/// A grant's webhook and its latest deliveries, as `vrm grant show` tells them.
public struct WebhookStatus: Sendable {
    public struct Event: Sendable {
        public let id: String
        public let createdAt: Date
        public let attempts: Int
        public let lastStatus: Int?
        public let lastError: String?
        public let deliveredAt: Date?
        public let stoppedAt: Date?
        public let nextAt: Date?

        public init(
            id: String, createdAt: Date, attempts: Int, lastStatus: Int?, lastError: String?, deliveredAt: Date?, stoppedAt: Date?, nextAt: Date?
        ) {
            self.id = id
            self.createdAt = createdAt
            self.attempts = attempts
            self.lastStatus = lastStatus
            self.lastError = lastError
            self.deliveredAt = deliveredAt
            self.stoppedAt = stoppedAt
            self.nextAt = nextAt
        }
    }

    public let url: String
    public let events: [Event]

    public init(url: String, events: [Event]) {
        self.url = url
        self.events = events
    }
}

extension ConsentEngine {
    /// The grant's webhook (from its sealed metadata) and the endpoint's record of its deliveries.
    public func webhookStatus(grantID: String) throws -> WebhookStatus? {
        let grant = try grant(id: grantID)
        guard let url = grant.notifyURL else { return nil }
        let events = try context.read { transaction in try transaction.notify.events(grantID: grantID) }
        return WebhookStatus(
            url: url,
            events: events.map { row in
                WebhookStatus.Event(
                    id: row.id, createdAt: Millis.date(row.createdAt), attempts: row.attempts, lastStatus: row.lastStatus, lastError: row.lastError,
                    deliveredAt: row.deliveredAt.map(Millis.date), stoppedAt: row.stoppedAt.map(Millis.date),
                    nextAt: row.deliveredAt == nil && row.stoppedAt == nil ? Millis.date(row.nextAt) : nil)
            })
    }
}
