import Foundation
import Synchronization
import VaultCrypto

/// The dashboard's credentials and state (Specs/dashboard.md §2):
/// - the **URL secret**: 32 random bytes in the link `vrm ui` opens or prints, good for one
///   visit; that visit is sent on to
/// - a **session path** `/s/SESSION/` (32 random bytes) under which every page and action
///   lives — a capability in the address, not a cookie, since browsers send a host's cookies
///   to every port of it (another local user's server on 127.0.0.1 would get them);
/// - **page tokens**: each form on each rendered page carries its own random token, bound to
///   the one action the form performs and good for one use.
/// Only BLAKE2b hashes of these are kept, and compared in constant time.
final class DashboardSession: Sendable {
    struct State {
        var secretHash: [UInt8]
        var secretUsed = false
        /// The one session the link opened.
        var session: [UInt8]?
        /// Page token hash → the action (method and path) it may perform, and when it was issued.
        var tokens: [[UInt8]: (action: String, issued: Date)] = [:]
        var flash: (text: String, problem: Bool)?
        var lastActivity: Date
        var stopRequested = false
    }

    static let maxTokens = 512

    private let state: Mutex<State>
    private let clock: @Sendable () -> Date

    /// Makes the URL secret; returns the session and the secret's text (for the one link).
    static func make(clock: @escaping @Sendable () -> Date) -> (DashboardSession, [UInt8]) {
        var secret = Random.bytes(32)
        let text = Base64URL.encodeToBytes(secret)
        let session = DashboardSession(secretHash: hash(text), clock: clock)
        Wipe.bytes(&secret)
        return (session, text)
    }

    private init(secretHash: [UInt8], clock: @escaping @Sendable () -> Date) {
        self.clock = clock
        state = Mutex(State(secretHash: secretHash, lastActivity: clock()))
    }

    private static func hash(_ bytes: [UInt8]) -> [UInt8] {
        BLAKE2b.hash([Array("vrm-ui-credential-v1".utf8), bytes])
    }

    enum SecretCheck: Equatable { case accepted, used, wrong }

    /// Checks the link's secret; the first correct presentation uses it up.
    func takeSecret(_ presented: String) -> SecretCheck {
        let digest = Self.hash(Array(presented.utf8))
        return state.withLock { state in
            guard constantTimeEquals(digest, state.secretHash) else { return .wrong }
            if state.secretUsed { return .used }
            state.secretUsed = true
            state.lastActivity = clock()
            return .accepted
        }
    }

    /// A new session (after the secret was accepted): its path segment.
    func newSession() -> String {
        let value = Base64URL.encode(Random.bytes(32))
        let digest = Self.hash(Array(value.utf8))
        state.withLock { $0.session = digest }
        return value
    }

    /// True when `presented` is a session's; counts as activity.
    func checkSession(_ presented: String?) -> Bool {
        guard let presented, presented.utf8.count <= 128 else { return false }
        let digest = Self.hash(Array(presented.utf8))
        return state.withLock { state in
            guard let session = state.session, constantTimeEquals(session, digest) else { return false }
            state.lastActivity = clock()
            return true
        }
    }

    /// A token for one form, good once for `action` (e.g. `POST /grants/gr_x/revoke`).
    func token(for action: String) -> String {
        let value = Base64URL.encode(Random.bytes(24))
        let digest = Self.hash(Array(value.utf8))
        let now = clock()
        state.withLock { state in
            if state.tokens.count >= Self.maxTokens,
                let oldest = state.tokens.min(by: { $0.value.issued < $1.value.issued })?.key
            {
                state.tokens.removeValue(forKey: oldest)
            }
            state.tokens[digest] = (action, now)
        }
        return value
    }

    /// Uses up `presented` if it was issued for `action`. A token presented for another action
    /// is used up too (it was shown to something that misused it).
    func takeToken(_ presented: String?, for action: String) -> Bool {
        guard let presented, !presented.isEmpty, presented.utf8.count <= 128 else { return false }
        let digest = Self.hash(Array(presented.utf8))
        return state.withLock { state in
            var match: [UInt8]?
            for key in state.tokens.keys where constantTimeEquals(key, digest) { match = key }
            guard let match, let entry = state.tokens.removeValue(forKey: match) else { return false }
            return entry.action == action
        }
    }

    func setFlash(_ text: String, problem: Bool = false) { state.withLock { $0.flash = (text, problem) } }

    func takeFlash() -> (text: String, problem: Bool)? {
        state.withLock { state in
            defer { state.flash = nil }
            return state.flash
        }
    }

    var lastActivity: Date { state.withLock { $0.lastActivity } }

    func requestStop() { state.withLock { $0.stopRequested = true } }
    var stopRequested: Bool { state.withLock { $0.stopRequested } }
}
