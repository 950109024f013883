public import Foundation
public import VaultCore
import Synchronization
public import VaultCrypto

/// Where a notifier reads a vault's activity and its customer's channel.
public protocol ActivitySource: Sendable {
    func channel() throws -> (channel: CustomerChannel, signer: SigningKeyPair?)?
    func read(since: ActivitySnapshot?) throws -> (snapshot: ActivitySnapshot, denials: Int, requests: [String])
}

extension VaultActivity: ActivitySource {}

/// Tells the customer of activity (`Specs/requests.md` §6): redemptions, refused redemptions,
/// access requests and revocations, as the endpoint sees them — kinds, ids, counts and times,
/// nothing personal. Each event goes at once in a notice of its own, up to four in the channel's
/// interval (default a minute); the fifth carries everything waiting and later events wait for
/// the interval, so a busy grant cannot flood the customer (`NoticeBatcher`). What is seen
/// starts when the notifier does; pending events live in memory (a restart loses at most one
/// interval's batch).
public final class CustomerNotifier: Sendable {
    let source: any ActivitySource
    let clock: VaultClock
    let sender: WebhookSender

    private let batcher = Mutex(NoticeBatcher())

    public init(source: any ActivitySource, clock: @escaping VaultClock = { Date() }, timeout: TimeInterval = 10) {
        self.source = source
        self.clock = clock
        self.sender = WebhookSender(timeout: timeout)
    }

    /// Reads what happened since the last tick and sends a notice when one is due; returns what
    /// the notice carried (empty when none was due, or no channel is set).
    @discardableResult
    public func tick() async -> [ActivityNotice] {
        let source = self.source
        let now = Millis.from(clock())
        // Without a channel nothing is read (and what is seen starts again when one is set).
        guard let channel = (try? await ShareRoutes.offloadThrowing({ try source.channel() })) ?? nil else {
            batcher.withLock { $0 = NoticeBatcher() }
            return []
        }
        let seen = batcher.withLock { $0.seen }
        guard let read = try? await ShareRoutes.offloadThrowing({ try source.read(since: seen) }) else { return [] }
        guard let batch = batcher.withLock({ $0.advance(read, interval: channel.channel.interval, nowMillis: now) }) else { return [] }
        // A failed send keeps the rate limit (it counted as a notice) and drops the batch: the
        // customer's history has every event; the notice is only a nudge.
        _ = await Self.send(batch, to: channel.channel, signer: channel.signer, sender: sender, atMillis: now)
        return batch
    }

    /// Sends one notice now (also `vrm notify test`, from the CLI); the status, or why there was none.
    static func send(
        _ notices: [ActivityNotice], to channel: CustomerChannel, signer: SigningKeyPair?, sender: WebhookSender, atMillis: Int64
    ) async -> Result<Int, WebhookSender.NoAnswer> {
        guard !notices.isEmpty else { return .success(204) }
        switch channel.kind {
        case .ntfy:
            return await sender.post(
                channel.url, body: Array(ActivityNotice.message(notices).utf8),
                headers: ["Title": "VRM Vault activity", "Tags": "lock", "Content-Type": "text/plain; charset=utf-8"])
        case .webhook:
            let body = ActivityNotice.webhookBody(notices, atMillis: atMillis)
            let id = Webhooks.eventID()
            var headers = ["Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": String(atMillis / 1000)]
            if let signer { headers["webhook-signature"] = Webhooks.signature(id: id, timestamp: atMillis / 1000, body: body, key: signer) }
            return await sender.post(channel.url, body: body, headers: headers)
        }
    }

    /// Sends `notices` as one notice (the relay's notifier).
    public static func send(_ notices: [ActivityNotice], to channel: CustomerChannel, signer: SigningKeyPair?, atMillis: Int64) async -> Bool {
        if case .success(let status) = await send(notices, to: channel, signer: signer, sender: shared, atMillis: atMillis) {
            return (200..<300).contains(status)
        }
        return false
    }

    static let shared = WebhookSender(timeout: 10)

    /// Sends a test notice to `channel` (`vrm notify test`): the status, or why there was none.
    public static func sendTest(to channel: CustomerChannel, signer: SigningKeyPair?, timeout: TimeInterval = 10) async -> Result<Int, any Error> {
        let now = Millis.from(Date())
        return await send([ActivityNotice(type: "vrm.test", at: now)], to: channel, signer: signer, sender: WebhookSender(timeout: timeout), atMillis: now)
            .mapError { $0 as any Error }
    }

    /// Ticks every `interval` until the task is cancelled.
    public func run(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            await tick()
            try? await Task.sleep(for: interval)
        }
    }
}
