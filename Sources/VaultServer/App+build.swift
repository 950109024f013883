public import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
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
    /// Free bytes the vault's file system must have for the server to start.
    public var minimumFreeBytes: Int64
    /// The reverse proxies whose `Forwarded`/`X-Forwarded-For` names the client.
    public var trustedProxies: TrustedProxies
    /// Native TLS: PEM files of the certificate chain and its private key; nil for plain HTTP.
    public var tls: (certificateChain: String, privateKey: String)?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxFailures: Int = 20, failureWindow: TimeInterval = 60,
        minimumFreeBytes: Int64 = VaultDatabase.minimumServerFreeBytes, trustedProxies: TrustedProxies = .none,
        tls: (certificateChain: String, privateKey: String)? = nil
    ) {
        self.trustedProxies = trustedProxies
        self.tls = tls
        self.host = host
        self.port = port
        self.maxFailures = maxFailures
        self.failureWindow = failureWindow
        self.minimumFreeBytes = minimumFreeBytes
    }
}

/// The whole HTTP application over an opened vault database (no passphrase, no keys).
public func buildApplication(
    database: VaultDatabase, options: ServerOptions, clock: @escaping VaultClock = { Date() },
    accessLog: AccessLog = AccessLog(), logger: Logger = Logger(label: "vrm.serve", factory: ServerLogHandler.init),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    // A full disk would stop every redemption; the WAL alone must never be what fills it.
    if let free = database.freeBytes(), free < options.minimumFreeBytes {
        throw VaultError.storage(
            "only \(free >> 20) MiB free on the disk that holds \(database.path); vrm serve needs at least "
                + "\(options.minimumFreeBytes >> 20) MiB (Specs/vault-format.md, Free space)")
    }
    // The WAL is checkpointed on a connection and thread of its own, not inside the writer's
    // commits, which every waiting request would wait for (Benchmarks/RESULTS.md).
    try database.checkpointInBackground()
    let redeemer = try Redeemer(database: database, clock: clock)
    // The header's signing key, as stored: the server has no key to check it with, and a vendor
    // who pinned the customer's key is not misled by a changed one (`Specs/share-envelope.md`).
    let service = VaultShareService(
        commits: GroupCommitQueue(redeemer: redeemer), keys: VaultJWKSet(keys: [VaultJWK(publicKey: database.header.signPublicKey)]),
        webhooks: VaultWebhookStore(database: database))
    return try buildShareApplication(
        service: service, requests: try VaultRequestInbox(database: database), options: options, clock: clock, accessLog: accessLog,
        logger: logger, onServerRunning: onServerRunning)
}

/// The HTTP application around a share service: `GET /v1/share` on both server paths (the
/// router and the event-loop fast path), the JWK Set, the probes, the access log, problem
/// answers, request limits and optional TLS — for `vrm serve` and the relay alike.
/// `routes` adds the caller's own routes (the relay's control API, with `controlRoutes`).
public func buildShareApplication(
    service: some ShareService, requests: (any RequestInbox)? = nil, options: ServerOptions, clock: @escaping VaultClock = { Date() },
    accessLog: AccessLog = AccessLog(), logger: Logger,
    controlRoutes: Bool = false, routes: (Router<VaultRequestContext>) -> Void = { _ in },
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let limiter = FailureRateLimiter(maxFailures: options.maxFailures, window: options.failureWindow, clock: clock)
    // One endpoint, hence one service and one rate limiter, for both server paths.
    let endpoint = ShareEndpoint(service: service, limiter: limiter, proxies: options.trustedProxies)
    let router = Router(context: VaultRequestContext.self)
    ShareRoutes(endpoint: endpoint).register(on: router)
    if let requests { RequestRoutes(inbox: requests, endpoint: endpoint, clock: clock).register(on: router) }
    routes(router)
    let responder = EdgeResponder(
        inner: router.buildResponder(), accessLog: accessLog, proxies: options.trustedProxies, controlRoutes: controlRoutes)
    let limits = HTTP1Channel.Configuration.DecoderConfiguration(
        maxHeaderFieldSize: ServerLimits.parserHeaderLimit, maxHeaderListSize: ServerLimits.parserHeaderLimit, maxHeaderFieldCount: 200)
    let outboxes = ReplyOutboxes()
    let tls = try options.tls.map { try serverTLSConfiguration(certificateChain: $0.certificateChain, privateKey: $0.privateKey) }
    let server = HTTPServerBuilder { httpResponder -> any ServerChildChannel in
        let channel = VaultHTTP1Channel(
            inner: HTTP1Channel(responder: httpResponder, configuration: .init(idleTimeout: .seconds(30), httpDecoderConfiguration: limits)),
            endpoint: endpoint, accessLog: accessLog, outboxes: outboxes)
        guard let tls else { return channel }
        return try TLSChannel(channel, tlsConfiguration: tls)
    }
    return Application(
        responder: responder,
        server: server,
        configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? options.port) },
        logger: logger)
}

/// The server's TLS configuration from PEM files (`vrm serve --tls-cert --tls-key`): TLS 1.2 or
/// later, with swift-nio-ssl's default cipher suites.
func serverTLSConfiguration(certificateChain: String, privateKey: String) throws -> TLSConfiguration {
    let chain: [NIOSSLCertificate]
    do {
        chain = try NIOSSLCertificate.fromPEMFile(certificateChain)
    } catch {
        throw VaultError.invalidInput("cannot read a PEM certificate chain from \(certificateChain)")
    }
    guard !chain.isEmpty else { throw VaultError.invalidInput("no certificate in \(certificateChain)") }
    let key: NIOSSLPrivateKey
    do {
        key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
    } catch {
        throw VaultError.invalidInput("cannot read a PEM private key from \(privateKey)")
    }
    var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    configuration.minimumTLSVersion = .tlsv12
    // Built once here, so a key that does not belong to the certificate is named before the
    // server starts rather than failing every connection.
    do {
        _ = try NIOSSLContext(configuration: configuration)
    } catch {
        throw VaultError.invalidInput("the private key in \(privateKey) does not match the certificate in \(certificateChain)")
    }
    return configuration
}
