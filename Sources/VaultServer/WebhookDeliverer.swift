public import Foundation
public import VaultCore
import Dispatch
import Synchronization
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
/// never received, nor decompressed: `Accept-Encoding: identity`, and the transfer is cancelled
/// at the response head), within a hard deadline however slowly the receiver answers.
struct WebhookSender: @unchecked Sendable {
    let session: URLSession
    let delegate: HeadOnly
    let timeout: TimeInterval

    init(timeout: TimeInterval) {
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        delegate = HeadOnly()
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
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

    struct NoAnswer: Error, CustomStringConvertible {
        let text: String
        var description: String { text }

        /// Why there was no answer, in words (the URL, which may carry a secret, is left out).
        static func from(_ error: (any Error)?) -> NoAnswer {
            guard let code = (error as? URLError)?.code else { return NoAnswer(text: "no answer") }
            let why: String =
                switch code {
                case .cannotConnectToHost: "connection refused"
                case .timedOut: "timed out"
                case .cannotFindHost, .dnsLookupFailed: "host not found"
                case .notConnectedToInternet, .networkConnectionLost: "network unreachable"
                case .badURL, .unsupportedURL: "the URL cannot be used"
                case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
                    .serverCertificateHasUnknownRoot:
                    "TLS failed (certificate not trusted, or no TLS)"
                default: "URLError \(code.rawValue)"
                }
            return NoAnswer(text: "no answer: " + why)
        }
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
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let task = session.dataTask(with: request)
        let id = task.taskIdentifier
        let delegate = self.delegate
        return await withCheckedContinuation { continuation in
            delegate.register(id, continuation)
            task.resume()
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                delegate.finish(id, .failure(NoAnswer(text: "no answer within \(Int(timeout)) s")))
                // Whatever answered first, nothing of this transfer outlives the deadline.
                task.cancel()
            }
        }
    }
}

/// The session's delegate: refuses every redirect (an event goes to the URL the customer
/// approved, nowhere else), and ends each task at its response head with the status.
final class HeadOnly: NSObject, URLSessionDataDelegate, Sendable {
    private let pending = Mutex<[Int: CheckedContinuation<Result<Int, WebhookSender.NoAnswer>, Never>]>([:])

    func register(_ id: Int, _ continuation: CheckedContinuation<Result<Int, WebhookSender.NoAnswer>, Never>) {
        pending.withLock { $0[id] = continuation }
    }

    /// Resumes the task's caller once; true when this call did.
    @discardableResult
    func finish(_ id: Int, _ result: Result<Int, WebhookSender.NoAnswer>) -> Bool {
        guard let continuation = pending.withLock({ $0.removeValue(forKey: id) }) else { return false }
        continuation.resume(returning: result)
        return true
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        finish(dataTask.taskIdentifier, .success((response as? HTTPURLResponse)?.statusCode ?? 0))
        completionHandler(.cancel)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let status = (task.response as? HTTPURLResponse)?.statusCode {
            finish(task.taskIdentifier, .success(status))
        } else {
            finish(task.taskIdentifier, .failure(WebhookSender.NoAnswer.from(error)))
        }
    }
}
