public import Foundation
public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
public import VaultCore

/// How `vrm serve` listens and limits.
public struct ServerOptions: Sendable {
    public var host: String
    public var port: Int
    /// Failed redemptions a client may make per window before 429.
    public var maxFailures: Int
    public var failureWindow: TimeInterval

    public init(host: String = "127.0.0.1", port: Int = 8080, maxFailures: Int = 20, failureWindow: TimeInterval = 60) {
        self.host = host
        self.port = port
        self.maxFailures = maxFailures
        self.failureWindow = failureWindow
    }
}

/// The router with all routes; the edge responder is added by `buildApplication`.
public func buildRouter(redeemer: Redeemer, limiter: FailureRateLimiter) -> Router<VaultRequestContext> {
    let router = Router(context: VaultRequestContext.self)
    ShareRoutes(redeemer: redeemer, commits: GroupCommitQueue(redeemer: redeemer), limiter: limiter).register(on: router)
    return router
}

/// The whole HTTP application over an opened vault database (no passphrase, no keys).
public func buildApplication(
    database: VaultDatabase, options: ServerOptions, clock: @escaping VaultClock = { Date() },
    accessLog: AccessLog = AccessLog(), logger: Logger = Logger(label: "vrm.serve", factory: ServerLogHandler.init),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let redeemer = try Redeemer(database: database, clock: clock)
    let limiter = FailureRateLimiter(maxFailures: options.maxFailures, window: options.failureWindow, clock: clock)
    let router = buildRouter(redeemer: redeemer, limiter: limiter)
    let responder = EdgeResponder(inner: router.buildResponder(), accessLog: accessLog)
    let limits = HTTP1Channel.Configuration.DecoderConfiguration(
        maxHeaderFieldSize: ServerLimits.parserHeaderLimit, maxHeaderListSize: ServerLimits.parserHeaderLimit, maxHeaderFieldCount: 200)
    return Application(
        responder: responder,
        server: .http1(configuration: .init(idleTimeout: .seconds(30), httpDecoderConfiguration: limits)),
        configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? options.port) },
        logger: logger)
}
