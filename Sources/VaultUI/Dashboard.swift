public import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import VaultCrypto
public import VaultCore

/// How `vrm ui` serves the dashboard.
public struct DashboardOptions: Sendable {
    /// 0: a free port the system picks.
    public var port: Int
    /// Stops after this long without a request from the browser.
    public var idleTimeout: TimeInterval
    /// Stop on SIGINT and SIGTERM (the CLI); tests that run several dashboards turn it off.
    public var stopOnSignals: Bool

    public init(port: Int = 0, idleTimeout: TimeInterval = 900, stopOnSignals: Bool = true) {
        self.port = port
        self.idleTimeout = idleTimeout
        self.stopOnSignals = stopOnSignals
    }
}

/// What the dashboard asks of its host around the vault: the CLI pulls a linked relay's
/// requests before they are shown, and pushes each change to it.
public struct DashboardHooks: Sendable {
    /// Before access requests are read; a note for the page when the relay was not reached.
    public var pull: @Sendable (Vault) async throws -> String?
    /// After a change; a note for the page (e.g. "and at the relay …"), or nil.
    public var push: @Sendable (Vault) async throws -> String?

    public init(
        pull: @escaping @Sendable (Vault) async throws -> String? = { _ in nil }, push: @escaping @Sendable (Vault) async throws -> String? = { _ in nil }
    ) {
        self.pull = pull
        self.push = push
    }
}

/// Why the dashboard stopped.
public enum DashboardStop: Sendable, Equatable {
    case signal, idle, stopButton
}

/// `vrm ui`: a local web dashboard over an unlocked vault (Specs/dashboard.md). Listens on
/// 127.0.0.1 only, answers only requests for its own host and port under its session's path
/// (which the one-time link leads to), and performs an action only for a same-origin POST with the
/// page token of the form that asks for it.
public final class Dashboard: Sendable {
    let vault: Vault
    let options: DashboardOptions
    let hooks: DashboardHooks
    let clock: @Sendable () -> Date
    let session: DashboardSession
    private let secret: LockedBytes
    let boundPort: LockedPort

    public init(
        vault: Vault, options: DashboardOptions = DashboardOptions(), hooks: DashboardHooks = DashboardHooks(),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.vault = vault
        self.options = options
        self.hooks = hooks
        self.clock = clock
        let (session, secret) = DashboardSession.make(clock: clock)
        self.session = session
        self.secret = LockedBytes(secret)
        boundPort = LockedPort(options.port == 0 ? nil : options.port)
    }

    /// Serves until a signal (SIGINT, SIGTERM), the idle timeout or the stop button.
    /// `onReady` gets the one-time link (`http://127.0.0.1:PORT/?k=…`) as bytes, once, when the
    /// port is bound; the buffer is zeroed when it returns, and the dashboard keeps no copy of
    /// the secret (only its hash).
    public func run(onReady: @escaping @Sendable ([UInt8]) async -> Void) async throws -> DashboardStop {
        var logger = Logger(label: "vrm.ui")
        logger.logLevel = .critical
        let router = Router()
        router.add(middleware: DashboardGuard(dashboard: self))
        DashboardRoutes(dashboard: self).register(on: router)
        // A connection that sends nothing for 15 s is closed (a half-sent request holds nothing);
        // at most 128 at once, none for longer than 2 minutes (ConnectionLimit).
        let limit = ConnectionLimit()
        let app = Application(
            router: router, server: .http1(configuration: .init(additionalChannelHandlers: [limit.handler()], idleTimeout: .seconds(15))),
            configuration: .init(address: .hostname("127.0.0.1", port: options.port), serverName: nil),
            onServerRunning: { [boundPort, secret] channel in
                guard let port = channel.localAddress?.port else { return }
                boundPort.set(port)
                var link = Array("http://127.0.0.1:\(port)/?k=".utf8)
                var secretText = secret.take()
                link += secretText
                Wipe.bytes(&secretText)
                await onReady(link)
                Wipe.bytes(&link)
            },
            logger: logger)
        return try await withThrowingTaskGroup(of: DashboardStop.self) { group in
            group.addTask { [options] in
                try await app.runService(gracefulShutdownSignals: options.stopOnSignals ? [.sigterm, .sigint] : [])
                return .signal
            }
            group.addTask { [session, clock, options] in
                while true {
                    try await Task.sleep(for: .milliseconds(200))
                    if session.stopRequested {
                        // Lets the stopped page go out first.
                        try await Task.sleep(for: .milliseconds(300))
                        return .stopButton
                    }
                    if clock().timeIntervalSince(session.lastActivity) > options.idleTimeout { return .idle }
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { return .signal }
            return first
        }
    }

    /// The origin the pages are served from, once the port is known.
    var origin: String? { boundPort.get().map { "http://127.0.0.1:\($0)" } }
    var host: String? { boundPort.get().map { "127.0.0.1:\($0)" } }
}

/// The secret's text until the link is handed out; wiped then.
final class LockedBytes: Sendable {
    private let bytes: Mutex<[UInt8]>
    init(_ bytes: [UInt8]) { self.bytes = Mutex(bytes) }
    /// The bytes, once: a copy in a buffer of its own (the caller wipes it), the stored
    /// ones zeroed.
    func take() -> [UInt8] {
        bytes.withLock { stored in
            let out = stored.map { $0 }
            Wipe.bytes(&stored)
            stored = []
            return out
        }
    }
}

final class LockedPort: Sendable {
    private let port: Mutex<Int?>
    init(_ port: Int?) { self.port = Mutex(port) }
    func set(_ value: Int) { port.withLock { $0 = value } }
    func get() -> Int? { port.withLock { $0 } }
}
