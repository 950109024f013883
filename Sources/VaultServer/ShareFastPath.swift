import Foundation
import HTTPTypes
import Hummingbird
public import HummingbirdCore
public import Logging
public import NIOCore
import NIOHTTPTypes
import Synchronization

/// Answers `GET /v1/share` on the connection's event loop, without Hummingbird's per-request
/// task: the request is prepared here (`Redeemer.prepare`), queued for the group-commit writer,
/// and the writer's reply comes back to this event loop through its `ReplyOutbox` — one
/// wake-up per batch and event loop rather than two thread hops per request. Every other
/// request (other paths and methods, bodies, `Connection` headers, oversized headers) goes on
/// to Hummingbird unchanged. Both paths answer through `ShareEndpoint`, so their responses,
/// access-log lines, rate limiting and audit are the same; the tests run them side by side.
///
/// HTTP/1.1 answers in request order. While a fast-path request waits for its commit, whatever
/// arrives after it (requests, errors, events) is held (and past `heldLimit` parts, so are
/// reads); while a request handed to Hummingbird is unanswered, later requests go to
/// Hummingbird too.
final class ShareFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Held {
        case read(NIOAny)
        case error(any Error)
        case event(Any)
    }

    private enum Current {
        case none
        /// Parts of a request handed to Hummingbird.
        case forwarding
        /// A fast-path request's head and fields, until its end arrives.
        case reading(HTTPRequest, ShareFields, started: ContinuousClock.Instant)
        /// A fast-path request waiting for its commit.
        case awaiting
    }

    private let endpoint: ShareEndpoint
    private let accessLog: AccessLog
    private let logger: Logger
    private let outbox: ReplyOutbox
    private let client: String

    private var current = Current.none
    /// Requests handed to Hummingbird whose response has not ended yet.
    private var forwarded = 0
    private var held: [Held] = []
    private var readHeld = false
    private var context: ChannelHandlerContext?

    init(endpoint: ShareEndpoint, accessLog: AccessLog, logger: Logger, outbox: ReplyOutbox, client: String) {
        self.endpoint = endpoint
        self.accessLog = accessLog
        self.logger = logger
        self.outbox = outbox
        self.client = client
    }

    private var awaiting: Bool {
        if case .awaiting = current { return true }
        return false
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        held.removeAll()
    }

    /// The requests this path takes, with the fields it reads; the rest go to Hummingbird
    /// (which answers 405, 413, 431…).
    static func takes(_ head: HTTPRequest) -> ShareFields? {
        guard head.method == .get, let path = head.path else { return nil }
        // Looked for as a byte: searching the `String` for a `Character` costs about a microsecond.
        let route = path.utf8.firstIndex(of: UInt8(ascii: "?")).map { path[..<$0] } ?? path[...]
        guard route == "/v1/share" else { return nil }
        return ShareFields(head.headerFields)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if awaiting { return held.append(.read(data)) }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if forwarded == 0, let fields = Self.takes(head) {
                current = .reading(head, fields, started: .now)
            } else {
                forwarded += 1
                current = .forwarding
                context.fireChannelRead(data)
            }
        case .body:
            // A taken request has no body (no Content-Length, no Transfer-Encoding).
            if case .reading = current { return }
            context.fireChannelRead(data)
        case .end:
            guard case .reading(let head, let fields, let started) = current else {
                current = .none
                return context.fireChannelRead(data)
            }
            current = .awaiting
            start(head, fields, started: started, context: context)
        }
    }

    private func start(_ head: HTTPRequest, _ fields: ShareFields, started: ContinuousClock.Instant, context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let outbox = outbox
        let path = head.path ?? "/v1/share", userAgent = fields.userAgent
        endpoint.begin(authorization: fields.authorization, userAgent: userAgent, ifNoneMatch: fields.ifNoneMatch,
                       client: client) { reply in
            if outbox.eventLoop.inEventLoop {
                handler.value.finish(reply, path: path, userAgent: userAgent, started: started)
            } else {
                outbox.post { handler.value.finish(reply, path: path, userAgent: userAgent, started: started) }
            }
        }
    }

    /// Writes the answer (on the event loop), logs it, then goes on with what was held.
    private func finish(_ reply: ShareEndpoint.Reply, path: String, userAgent: String?, started: ContinuousClock.Instant) {
        let answer: ShareAnswer
        do {
            answer = try endpoint.answer(reply, client: client)
        } catch {
            answer = Problem.requestFailed(error, logger: logger)
        }
        var fields = answer.headers
        if let body = answer.body { fields[.contentLength] = String(body.readableBytes) }
        fields[.date] = HTTPDate.now()
        if let context {
            context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: fields))), promise: nil)
            if let body = answer.body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        accessLog.record(method: "GET", path: path, status: Int(answer.status.code), started: started,
                         client: client, userAgent: userAgent, bytes: answer.body?.readableBytes)
        current = .none
        resume()
    }

    /// Replays what arrived while a request waited, in order, until another one waits.
    private func resume() {
        guard let context else { return }
        var replayed = false
        while !awaiting, !held.isEmpty {
            switch held.removeFirst() {
            case .read(let data):
                replayed = true
                channelRead(context: context, data: data)
            case .error(let error): context.fireErrorCaught(error)
            case .event(let event): context.fireUserInboundEventTriggered(event)
            }
        }
        // Hummingbird's inbound stream hands reads on at the end of a read burst; replayed parts
        // forwarded to it would otherwise wait for the next burst, which a client that has sent
        // everything never makes.
        if replayed { context.fireChannelReadComplete() }
        if !awaiting, readHeld {
            readHeld = false
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if awaiting { return held.append(.error(error)) }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if awaiting { return held.append(.event(event)) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Nobody is left to answer: drop what was held (the pending answer's write will fail
        // quietly; its redemption is counted and audited all the same, as on Hummingbird's path).
        held.removeAll()
        context.fireChannelInactive()
    }

    /// Held parts past which reading pauses until the waiting request is answered. Pausing
    /// costs two `epoll_ctl` calls, so a client that sends one request at a time never pauses;
    /// one that pipelines many is held to about this many parts in memory.
    static let heldLimit = 16

    func read(context: ChannelHandlerContext) {
        if awaiting, held.count >= Self.heldLimit {
            readHeld = true
        } else {
            context.read()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { forwarded = max(0, forwarded - 1) }
        context.write(data, promise: promise)
    }
}
