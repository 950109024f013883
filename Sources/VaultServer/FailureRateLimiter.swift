public import Foundation
import Synchronization

/// Counts failed redemptions (401/403) per client in a fixed window; past the limit the client
/// gets 429 with `Retry-After` until its window ends. Memory is bounded by pruning old windows.
public final class FailureRateLimiter: Sendable {
    struct Window {
        var start: Date
        var failures: Int
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

    /// Seconds the client must wait, or nil when it may try.
    public func retryAfter(client: String) -> Int? {
        let now = clock()
        return state.withLock { windows in
            guard let w = windows[client], now.timeIntervalSince(w.start) < window, w.failures >= maxFailures else { return nil }
            return max(1, Int((window - now.timeIntervalSince(w.start)).rounded(.up)))
        }
    }

    /// Records one failure for the client.
    public func recordFailure(client: String) {
        let now = clock()
        state.withLock { windows in
            if windows.count >= Self.pruneThreshold {
                windows = windows.filter { now.timeIntervalSince($0.value.start) < window }
            }
            if var w = windows[client], now.timeIntervalSince(w.start) < window {
                w.failures += 1
                windows[client] = w
            } else {
                windows[client] = Window(start: now, failures: 1)
            }
        }
    }
}
