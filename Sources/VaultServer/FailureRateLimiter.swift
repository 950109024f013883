public import Foundation
import Synchronization

/// Counts failed redemptions (401/403) per client in a fixed window. Bursts cannot overshoot:
/// a request takes a slot before it is answered (`reserve`), and a client whose failures and
/// pending requests together reach the limit is over it until its window ends. A request
/// from a client over the limit still goes on, flagged (`RedemptionRequest.limited`): a
/// genuine token is answered as always, and anything else gets 429 with nothing recorded —
/// so other clients' failures from the same address never lock out a vendor with a valid
/// token. IPv6 clients are counted per /64 (one host usually has the whole prefix). Memory is
/// bounded by pruning old windows.
public final class FailureRateLimiter: Sendable {
    struct Window {
        var start: Date
        var failures: Int
        /// Reserved and not yet settled.
        var pending: Int
    }

    public let maxFailures: Int
    public let window: TimeInterval
    let clock: @Sendable () -> Date
    private let state = Mutex<[String: Window]>([:])
    static let pruneThreshold = 10_000

    public init(maxFailures: Int = 20, window: TimeInterval = 60, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.maxFailures = maxFailures
        self.window = window
        self.clock = clock
    }

    /// What `reserve` decided.
    public enum Admission: Sendable, Equatable {
        /// Under the limit: a slot is held until `settle`.
        case reserved(key: String)
        /// Over it: the seconds until the window ends; nothing is held.
        case limited(retryAfter: Int)
    }

    /// Takes a slot for one request from `client`, or says it is over the limit.
    public func reserve(client: String) -> Admission {
        let now = clock()
        let key = Self.key(client)
        return state.withLock { windows in
            if windows.count >= Self.pruneThreshold {
                windows = windows.filter { now.timeIntervalSince($0.value.start) < window || $0.value.pending > 0 }
            }
            var w = windows[key] ?? Window(start: now, failures: 0, pending: 0)
            if now.timeIntervalSince(w.start) >= window { (w.start, w.failures) = (now, 0) }
            guard w.failures + w.pending < maxFailures else {
                windows[key] = w
                return .limited(retryAfter: max(1, Int((window - now.timeIntervalSince(w.start)).rounded(.up))))
            }
            w.pending += 1
            windows[key] = w
            return .reserved(key: key)
        }
    }

    /// Seconds until the client's window ends (at least 1).
    public func retryAfter(client: String) -> Int {
        let now = clock()
        return state.withLock { windows in
            guard let w = windows[Self.key(client)] else { return 1 }
            return max(1, Int((window - now.timeIntervalSince(w.start)).rounded(.up)))
        }
    }

    /// Releases a reserved slot; a failure stays counted for the window.
    public func settle(_ admission: Admission, failed: Bool) {
        guard case .reserved(let key) = admission else { return }
        state.withLock { windows in
            guard var w = windows[key] else { return }
            w.pending = max(0, w.pending - 1)
            if failed { w.failures += 1 }
            windows[key] = w
        }
    }

    /// What a client is counted by: its IPv4 address, or its IPv6 address's /64 prefix
    /// (`2001:db8:1:2::/64`); an IPv4-mapped IPv6 address counts as its IPv4 address.
    static func key(_ client: String) -> String {
        guard client.contains(":") else { return client }
        var address = in6_addr()
        guard inet_pton(AF_INET6, client, &address) == 1 else { return client }
        let bytes = withUnsafeBytes(of: &address) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return bytes[12..<16].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
