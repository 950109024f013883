import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import VaultCore

/// One HTTP/1.1 POST whose answer is read up to its status line and headers, and no further:
/// the connection is closed as soon as the head arrives, so a receiver that streams a body
/// (gigabytes, or a byte a second) has none of it read or held. Redirects are not followed (a
/// 3xx is just a status); the whole exchange — name lookup, connection, TLS, request, head —
/// has one deadline. Swift's Foundation on Linux could not be stopped at the head (it read on
/// to the deadline, whatever the delegate said), hence SwiftNIO here.
enum HeadOnlyPost {
    /// The status of the answer's head, or why there was none (never the URL, which may carry
    /// the receiver's own secret).
    static func send(
        _ url: URL, body: [UInt8], headers: [(String, String)], timeout: TimeAmount
    ) async -> Result<Int, WebhookSender.NoAnswer> {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty,
            let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        else { return .failure(WebhookSender.NoAnswer(text: "the URL cannot be used")) }
        let tls = scheme == "https"
        let port = url.port ?? (tls ? 443 : 80)
        guard (1...65_535).contains(port) else { return .failure(WebhookSender.NoAnswer(text: "the URL cannot be used")) }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let target = path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let answered = loop.makePromise(of: Int.self)
        // One deadline for everything; whatever ends first closes the channel.
        let deadline = loop.scheduleTask(in: timeout) {
            answered.fail(WebhookSender.NoAnswer(text: "no answer within \(timeout.nanoseconds / 1_000_000_000) s"))
        }
        let sslContext: NIOSSLContext?
        do {
            sslContext = tls ? try Self.tlsContext() : nil
        } catch {
            deadline.cancel()
            return .failure(WebhookSender.NoAnswer(text: "no answer: TLS could not be set up"))
        }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        // SNI and the certificate's name check take a name, not an address.
                        let name = NotifyURL.isAddress(host) ? nil : host
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HeadCatcher(promise: answered))
                }
            }
        let connecting = bootstrap.connect(host: host, port: port)
        connecting.whenFailure { answered.fail($0) }
        connecting.whenSuccess { channel in
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target)
            head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
            head.headers.add(name: "User-Agent", value: "vrm-vault-webhooks/1")
            head.headers.add(name: "Accept-Encoding", value: "identity")
            head.headers.add(name: "Connection", value: "close")
            head.headers.add(name: "Content-Length", value: String(body.count))
            for (name, value) in headers { head.headers.replaceOrAdd(name: name, value: value) }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            answered.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        let result: Result<Int, any Error>
        do {
            result = .success(try await answered.futureResult.get())
        } catch {
            result = .failure(error)
        }
        deadline.cancel()
        // A connection made after the deadline passed is closed at once.
        connecting.whenSuccess { $0.close(promise: nil) }
        return result.mapError(Self.why)
    }

    /// The system's trust roots, full verification: made once.
    private static func tlsContext() throws -> NIOSSLContext {
        try shared.withLock { context in
            if let context { return context }
            let made = try NIOSSLContext(configuration: .makeClientConfiguration())
            context = made
            return made
        }
    }

    private static let shared = Mutex<NIOSSLContext?>(nil)

    /// Why there was no answer, in words.
    private static func why(_ error: any Error) -> WebhookSender.NoAnswer {
        if let answer = error as? WebhookSender.NoAnswer { return answer }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return WebhookSender.NoAnswer(text: "no answer: TLS failed (certificate not trusted, or no TLS)")
        }
        if let connection = error as? NIOConnectionError {
            if connection.dnsAError != nil || connection.dnsAAAAError != nil, connection.connectionErrors.isEmpty {
                return WebhookSender.NoAnswer(text: "no answer: host not found")
            }
            if connection.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
                return WebhookSender.NoAnswer(text: "no answer: connection refused")
            }
            return WebhookSender.NoAnswer(text: "no answer: could not connect")
        }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED { return WebhookSender.NoAnswer(text: "no answer: connection refused") }
        if case ChannelError.connectTimeout = error { return WebhookSender.NoAnswer(text: "no answer: timed out") }
        if error is ChannelError { return WebhookSender.NoAnswer(text: "no answer: the connection closed before an answer") }
        if error is HTTPParserError { return WebhookSender.NoAnswer(text: "no answer: not an HTTP answer") }
        return WebhookSender.NoAnswer(text: "no answer")
    }
}

/// Takes the first final head (1xx heads are interim), then is done; a connection that ends
/// first is "no answer". Nothing after the head is read: the channel is closed.
private final class HeadCatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    let promise: EventLoopPromise<Int>

    init(promise: EventLoopPromise<Int>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), !(100..<200).contains(head.status.code) {
            promise.succeed(Int(head.status.code))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
