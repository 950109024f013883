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
        for delivery in due {
            let result: WebhookResult
            if !delivery.grantActive {
                result = .grantEnded
            } else if let signer = delivery.signer {
                result = await sender.send(delivery, signer: signer, atSeconds: Millis.from(clock()) / 1000)
            } else {
                result = .noKey
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

    struct NoAnswer: Error {
        let text: String
    }

    /// POSTs `body` with `headers`; the status, or why there was none. The URL (which may carry
    /// the receiver's own secret) is never part of the error.
    func post(_ target: String, body: [UInt8], headers: [String: String]) async -> Result<Int, NoAnswer> {
        guard let url = URL(string: target) else { return .failure(NoAnswer(text: "not a URL")) }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.cachePolicy = .reloadIgnoringLocalCacheData
        request.setValue("vrm-vault-webhooks/1", forHTTPHeaderField: "User-Agent")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        do {
            let (_, response) = try await session.data(for: request)
            return .success((response as? HTTPURLResponse)?.statusCode ?? 0)
        } catch {
            let code = (error as? URLError)?.code.rawValue
            return .failure(NoAnswer(text: "no answer" + (code.map { " (URLError \($0))" } ?? "")))
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
