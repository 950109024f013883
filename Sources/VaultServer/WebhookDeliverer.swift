public import Foundation
public import VaultCore
import VaultCrypto

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends vendors' change events (`Specs/requests.md` §5) from a `WebhookStore`: Standard
/// Webhooks `v1a` signatures by the notification key, at least once, retried on the schedule of
/// `Webhooks.nextAttempt`, each attempt recorded before the next is made — so a restart picks up
/// where the last run stopped. Redirects are not followed (a 3xx is a failed attempt).
public final class WebhookDeliverer: Sendable {
    let store: any WebhookStore
    let clock: VaultClock
    let sender: WebhookSender

    public init(store: any WebhookStore, clock: @escaping VaultClock = { Date() }, timeout: TimeInterval = 10) {
        self.store = store
        self.clock = clock
        self.sender = WebhookSender(timeout: timeout)
    }

    /// Sends every event due now (at most `limit`); returns how many attempts were made.
    @discardableResult
    public func deliverDue(limit: Int = 50) async -> Int {
        let store = self.store
        let now = Millis.from(clock())
        guard let due = try? await ShareRoutes.offloadThrowing({ try store.dueDeliveries(nowMillis: now, limit: limit) }), !due.isEmpty else {
            return 0
        }
        guard let signer = try? await ShareRoutes.offloadThrowing({ try store.notificationKey() }) else { return 0 }
        for delivery in due {
            let result: WebhookResult
            if !delivery.grantActive {
                result = .grantEnded
            } else {
                result = await sender.send(delivery, signer: signer.key, atSeconds: Millis.from(clock()) / 1000)
            }
            let at = Millis.from(clock())
            _ = try? await ShareRoutes.offloadThrowing { try store.record(delivery, result: result, nowMillis: at) }
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

/// One HTTP POST of an event, signed.
struct WebhookSender: @unchecked Sendable {
    let session: URLSession

    init(timeout: TimeInterval) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    func send(_ delivery: WebhookDelivery, signer: SigningKeyPair, atSeconds: Int64) async -> WebhookResult {
        guard let url = URL(string: delivery.url) else { return .failed(status: nil, error: "not a URL") }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(delivery.body)
        request.cachePolicy = .reloadIgnoringLocalCacheData
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("vrm-vault-webhooks/1", forHTTPHeaderField: "User-Agent")
        request.setValue(delivery.id, forHTTPHeaderField: "webhook-id")
        request.setValue(String(atSeconds), forHTTPHeaderField: "webhook-timestamp")
        request.setValue(
            Webhooks.signature(id: delivery.id, timestamp: atSeconds, body: delivery.body, key: signer), forHTTPHeaderField: "webhook-signature")
        do {
            let (_, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            switch status {
            case 200..<300: return .delivered(status: status)
            case 410: return .gone
            default: return .failed(status: status, error: "answered \(status)")
            }
        } catch {
            // Only the kind of failure: the URL (which may carry the vendor's own secret) is not repeated.
            let code = (error as? URLError)?.code.rawValue
            return .failed(status: nil, error: "no answer" + (code.map { " (URLError \($0))" } ?? ""))
        }
    }

}

/// Refuses every redirect: an event goes to the URL the customer approved, nowhere else.
final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
