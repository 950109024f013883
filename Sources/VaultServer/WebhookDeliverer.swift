public import Foundation
public import VaultCore
import Dispatch
import Synchronization
import VaultCrypto

/// Sends vendors' change events (`Specs/requests.md` §5) from a `WebhookStore`: Standard
/// Webhooks `v1a` signatures by the notification key, at least once, retried on the schedule of
/// `Webhooks.nextAttempt`, each attempt recorded before the next is made — so a restart picks up
/// where the last run stopped. Redirects are not followed (a 3xx is a failed attempt).
public final class WebhookDeliverer: Sendable {
    let store: any WebhookStore
    let clock: VaultClock
    let sender: WebhookSender
    /// Deliveries in flight at once.
    static let parallel = 8

    /// Why a URL is not sent to (the relay: its own machine, unless allowed); nil to send.
    let refusal: @Sendable (String) -> String?

    public init(
        store: any WebhookStore, clock: @escaping VaultClock = { Date() }, timeout: TimeInterval = 10,
        refusal: @escaping @Sendable (String) -> String? = { _ in nil }
    ) {
        self.store = store
        self.clock = clock
        self.sender = WebhookSender(timeout: timeout)
        self.refusal = refusal
    }

    /// Sends every event due now (at most `limit`); returns how many attempts were made.
    @discardableResult
    public func deliverDue(limit: Int = 50) async -> Int {
        let store = self.store
        let now = Millis.from(clock())
        guard let due = try? await ShareRoutes.offloadThrowing({ try store.dueDeliveries(nowMillis: now, limit: limit) }), !due.isEmpty else {
            return 0
        }
        // Several at once (a slow receiver holds one slot, not the round), each attempt within
        // the sender's hard deadline, each recorded as it ends.
        let sender = self.sender
        let clock = self.clock
        let refusal = self.refusal
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for delivery in due {
                if running == Self.parallel {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask {
                    let result: WebhookResult
                    if !delivery.grantActive {
                        result = .grantEnded
                    } else if let why = refusal(delivery.url) {
                        result = .notAllowed(why)
                    } else if let signer = delivery.signer {
                        result = await sender.send(delivery, signer: signer, atSeconds: Millis.from(clock()) / 1000)
                    } else {
                        result = .noKey
                    }
                    let at = Millis.from(clock())
                    _ = try? await ShareRoutes.offloadThrowing { try store.record(delivery, result: result, nowMillis: at) }
                }
            }
        }
        return due.count
    }

    /// Delivers what is due every `interval` until the task is cancelled.
    public func run(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            await deliverDue()
            try? await Task.sleep(for: interval)
        }
    }
}

/// One HTTP POST of an event, signed: the answer's status is all that is read (the body is
/// never received, nor decompressed: `Accept-Encoding: identity`, and the connection is closed
/// at the response head, `HeadOnlyPost`), within a hard deadline however slowly the receiver
/// answers.
struct WebhookSender: Sendable {
    let timeout: TimeInterval

    func send(_ delivery: WebhookDelivery, signer: SigningKeyPair, atSeconds: Int64) async -> WebhookResult {
        let headers = [
            "Content-Type": "application/json", "webhook-id": delivery.id, "webhook-timestamp": String(atSeconds),
            "webhook-signature": Webhooks.signature(id: delivery.id, timestamp: atSeconds, body: delivery.body, key: signer),
        ]
        switch await post(delivery.url, body: delivery.body, headers: headers) {
        case .success(let status) where (200..<300).contains(status): return .delivered(status: status)
        case .success(410): return .gone
        case .success(let status): return .failed(status: status, error: "answered \(status)")
        case .failure(let error): return .failed(status: nil, error: error.text)
        }
    }

    struct NoAnswer: Error, CustomStringConvertible {
        let text: String
        var description: String { text }
    }

    /// POSTs `body` with `headers`; the status, or why there was none. The URL (which may carry
    /// the receiver's own secret) is never part of the error.
    func post(_ target: String, body: [UInt8], headers: [String: String]) async -> Result<Int, NoAnswer> {
        guard let url = URL(string: target) else { return .failure(NoAnswer(text: "not a URL")) }
        return await HeadOnlyPost.send(
            url, body: body, headers: headers.sorted { $0.key < $1.key }, timeout: .nanoseconds(Int64(max(timeout, 0.001) * 1_000_000_000)))
    }
}
