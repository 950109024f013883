public import Foundation
public import VaultCrypto

/// Where the customer is told of activity (`Specs/requests.md` §6).
public struct CustomerChannel: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case ntfy, webhook }

    public var kind: Kind
    public var url: String
    /// At most five notices per this many seconds (`NoticeBatcher`); past that, events wait and go together.
    public var interval: Int64

    public static let defaultInterval: Int64 = 60
    public static let intervals: ClosedRange<Int64> = 10...86_400

    public init(kind: Kind, url: String, interval: Int64 = defaultInterval) {
        self.kind = kind
        self.url = url
        self.interval = interval
    }
}

/// One kind of activity an endpoint announces, with nothing personal: the event kind, the grant
/// or request id, how many and when.
public struct ActivityNotice: Sendable, Equatable, Codable {
    public var type: String
    public var grantID: String?
    public var requestID: String?
    public var count: Int
    public var at: Int64

    public init(type: String, grantID: String? = nil, requestID: String? = nil, count: Int = 1, at: Int64) {
        self.type = type
        self.grantID = grantID
        self.requestID = requestID
        self.count = count
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case type, count
        case grantID = "grant_id", requestID = "request_id", at = "timestamp"
    }

    /// Merges notices of the same kind and grant (counts added, the latest time kept).
    public static func merged(_ notices: [ActivityNotice]) -> [ActivityNotice] {
        var order: [String] = []
        var byKey: [String: ActivityNotice] = [:]
        for notice in notices {
            let key = "\(notice.type)|\(notice.grantID ?? "")|\(notice.requestID ?? "")"
            if var existing = byKey[key] {
                existing.count = existing.count.saturatingAdd(notice.count)
                existing.at = max(existing.at, notice.at)
                byKey[key] = existing
            } else {
                order.append(key)
                byKey[key] = notice
            }
        }
        return order.compactMap { byKey[$0] }
    }

    /// One line for people: "3 redemptions of gr_…", "1 denial", "request rq_… received".
    public var text: String {
        let plural = count == 1 ? "" : "s"
        switch type {
        case "share.redeemed": return "\(count) redemption\(plural) of \(grantID ?? "a grant")"
        case "share.denied": return "\(count) refused redemption\(plural)\(grantID.map { " of \($0)" } ?? "")"
        case "request.received": return "access request \(requestID ?? "") received"
        case "grant.revoked": return "grant \(grantID ?? "") revoked"
        case "vrm.test": return "test notice from vrm notify test"
        default: return "\(count) \(type)"
        }
    }

    /// The message of a batch: ntfy's body, one line per kind.
    public static func message(_ notices: [ActivityNotice]) -> String {
        merged(notices).map(\.text).joined(separator: "\n")
    }

    /// A webhook's body: `{"data":{"events":[…]},"timestamp","type":"vault.activity"}` (sorted keys).
    public static func webhookBody(_ notices: [ActivityNotice], atMillis: Int64) -> [UInt8] {
        struct Body: Encodable {
            struct Data: Encodable { var events: [Event] }
            struct Event: Encodable {
                var type: String
                var grantID: String?
                var requestID: String?
                var count: Int
                var timestamp: String

                enum CodingKeys: String, CodingKey {
                    case type, count, timestamp
                    case grantID = "grant_id", requestID = "request_id"
                }
            }

            var data: Data
            var timestamp: String
            var type = "vault.activity"
        }
        let body = Body(
            data: .init(
                events: merged(notices).map {
                    .init(type: $0.type, grantID: $0.grantID, requestID: $0.requestID, count: $0.count, timestamp: Timestamp.string(millis: $0.at))
                }), timestamp: Timestamp.string(millis: atMillis))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(body)) ?? Foundation.Data())
    }
}

/// What an endpoint has seen of a vault's activity, to tell what is new since: each grant's
/// use count and revocation, the last history entry and the last request.
public struct ActivitySnapshot: Sendable, Equatable, Codable {
    public var uses: [String: Int64]
    public var revoked: Set<String>
    public var lastEntry: Int64
    public var lastRequest: Int64

    public init(uses: [String: Int64] = [:], revoked: Set<String> = [], lastEntry: Int64 = 0, lastRequest: Int64 = 0) {
        self.uses = uses
        self.revoked = revoked
        self.lastEntry = lastEntry
        self.lastRequest = lastRequest
    }

    /// The notices from `self` (earlier) to `now`: redemptions by use count, new revocations,
    /// `denials` (share.denied entries after `lastEntry`) and `requests` (ids, newest rows).
    public func notices(to now: ActivitySnapshot, denials: Int, requests: [String], atMillis: Int64) -> [ActivityNotice] {
        var notices: [ActivityNotice] = []
        for (id, count) in now.uses.sorted(by: { $0.key < $1.key }) {
            let before = uses[id] ?? 0
            if count > before {
                notices.append(ActivityNotice(type: "share.redeemed", grantID: id, count: Int(clamping: count.saturatingSubtract(before)), at: atMillis))
            }
        }
        if denials > 0 { notices.append(ActivityNotice(type: "share.denied", count: denials, at: atMillis)) }
        for id in requests { notices.append(ActivityNotice(type: "request.received", requestID: id, at: atMillis)) }
        for id in now.revoked.subtracting(revoked).sorted() { notices.append(ActivityNotice(type: "grant.revoked", grantID: id, at: atMillis)) }
        return notices
    }
}

/// The rate limit and batching of §6, as a value an endpoint keeps (in memory at `vrm serve`,
/// in the vault's row at the relay): what was seen last, what waits, when the last notices went.
///
/// At most `burst` notices go in any `interval`. While fewer than `burst - 1` went in the last
/// interval, each event goes in a notice of its own (one per redemption, at one advance each);
/// the last notice of the interval carries everything waiting, and later events wait until the
/// oldest notice of the interval is an interval old. A quiet vault's customer is told of every
/// redemption; a busy grant gives at most `burst` notices an interval.
public struct NoticeBatcher: Sendable, Codable, Equatable {
    public var seen: ActivitySnapshot?
    public var pending: [ActivityNotice] = []
    /// When the notices of the last interval went (at most `burst`, oldest first).
    public var sent: [Int64] = []

    public static let burst = 5
    /// Past this many kinds waiting, the waiting notices are merged and the oldest kinds dropped
    /// (the history has every event; the notice is a nudge).
    static let pendingLimit = 200

    public init() {}

    /// Takes what was read now; returns the notice to send, when one is due. The first read only
    /// sets what was seen (older activity is not announced). Without a channel nothing waits.
    public mutating func advance(
        _ read: (snapshot: ActivitySnapshot, denials: Int, requests: [String]), interval: Int64?, nowMillis: Int64
    ) -> [ActivityNotice]? {
        let notices = seen.map { $0.notices(to: read.snapshot, denials: read.denials, requests: read.requests, atMillis: nowMillis) } ?? []
        seen = read.snapshot
        guard let interval else {
            pending = []
            sent = []
            return nil
        }
        pending += notices
        if pending.count > Self.pendingLimit { pending = Array(ActivityNotice.merged(pending).suffix(Self.pendingLimit)) }
        let window = interval.saturatingMultiply(1000)
        sent = Array(sent.filter { $0 <= nowMillis && nowMillis.saturatingSubtract($0) < window }.suffix(Self.burst))
        guard !pending.isEmpty, sent.count < Self.burst else { return nil }
        sent.append(nowMillis)
        if sent.count < Self.burst {
            // One event: the first waiting, or one of its count.
            var first = pending[0]
            if first.count > 1 {
                pending[0].count -= 1
                first.count = 1
            } else {
                pending.removeFirst()
            }
            return [first]
        }
        defer { pending = [] }
        return ActivityNotice.merged(pending)
    }

    enum CodingKeys: String, CodingKey { case seen, pending, sent }

    /// A state written before `sent` was kept (it held `lastSent`) reads with none sent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seen = try container.decodeIfPresent(ActivitySnapshot.self, forKey: .seen)
        pending = try container.decodeIfPresent([ActivityNotice].self, forKey: .pending) ?? []
        sent = try container.decodeIfPresent([Int64].self, forKey: .sent) ?? []
    }
}

/// Where an endpoint reads activity and the customer's channel: the vault file (`vrm serve`).
public struct VaultActivity: Sendable {
    let database: VaultDatabase

    public init(database: VaultDatabase) {
        self.database = database
    }

    /// The customer's channel and the key that signs webhook notices; nil when none is set.
    public func channel() throws -> (channel: CustomerChannel, signer: SigningKeyPair?)? {
        try database.read { transaction in
            guard let row = try transaction.notify.settings(), let kind = row.customerKind.flatMap(CustomerChannel.Kind.init(rawValue:)),
                let url = row.customerURL
            else { return nil }
            return (
                CustomerChannel(kind: kind, url: url, interval: row.customerInterval ?? CustomerChannel.defaultInterval),
                try Webhooks.signer(row.secretKey)
            )
        }
    }

    /// Now, and what happened after `since` (share.denied entries, request ids).
    public func read(since: ActivitySnapshot?) throws -> (snapshot: ActivitySnapshot, denials: Int, requests: [String]) {
        try database.read { transaction in
            let (uses, revoked) = try transaction.notify.grantActivity()
            let (lastEntry, denials) = try transaction.notify.entries(after: since?.lastEntry ?? .max, event: AuditEvent.shareDenied.rawValue)
            let (lastRequest, requests) = try transaction.notify.requests(after: since?.lastRequest ?? .max)
            return (ActivitySnapshot(uses: uses, revoked: revoked, lastEntry: lastEntry, lastRequest: lastRequest), denials, requests)
        }
    }
}

/// The customer's notification channel, as the CLI sets it (`vrm notify`).
public struct NotificationSettings: Sendable {
    let context: VaultContext

    /// The channel; nil when none is set.
    public func channel() throws -> CustomerChannel? {
        try context.read { transaction in
            try context.checkHistory(in: transaction)
            guard let row = try transaction.notify.settings(), row.customerKind != nil || row.customerURL != nil else { return nil }
            // Only the CLI writes this row (in the records digest): a half or unknown channel is a changed file.
            guard let kind = row.customerKind.flatMap(CustomerChannel.Kind.init(rawValue:)), let url = row.customerURL else {
                throw VaultError.tampered(table: "notify_settings", id: "1")
            }
            return CustomerChannel(kind: kind, url: url, interval: row.customerInterval ?? CustomerChannel.defaultInterval)
        }
    }

    /// Sets the channel (an https URL, or http to this machine); makes the notification key if
    /// the vault has none (it signs webhook notices).
    public func set(_ channel: CustomerChannel) throws {
        try NotifyURL.check(channel.url)
        guard CustomerChannel.intervals.contains(channel.interval) else {
            throw VaultError.invalidInput("the interval must be 10 seconds to 1 day")
        }
        try context.write { transaction in
            var row = try transaction.notify.ensureKey(keys: context.keys, nowMillis: context.nowMillis)
            row.customerKind = channel.kind.rawValue
            row.customerURL = channel.url
            row.customerInterval = channel.interval
            try transaction.notify.setSettings(row)
        }
    }

    /// Turns the customer's notices off (the notification key stays for vendors' webhooks).
    public func clear() throws {
        try context.write { transaction in
            guard var row = try transaction.notify.settings() else { return }
            row.customerKind = nil
            row.customerURL = nil
            row.customerInterval = nil
            try transaction.notify.setSettings(row)
        }
    }

    /// The notification key, to sign a test notice from the CLI.
    public func signer() throws -> SigningKeyPair? {
        try context.read { transaction in try transaction.notify.settings().flatMap { try Webhooks.signer($0.secretKey) } }
    }
}

extension Vault {
    /// The customer's own notification channel (`vrm notify`).
    public var notifications: NotificationSettings { NotificationSettings(context: context) }
}
