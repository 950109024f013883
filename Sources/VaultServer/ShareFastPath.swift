import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers `GET /v1/share` on the connection's event loop, without Hummingbird's per-request
/// task: the request is prepared here (`Redeemer.prepare`), queued for the group-commit writer,
/// and the writer's reply comes back to this event loop through its `ReplyOutbox` — one
/// wake-up per batch and event loop rather than two thread hops per request. Every other
/// request (other paths and methods, bodies, `Connection` headers, oversized headers) goes on
/// to Hummingbird unchanged. Both paths answer through `ShareEndpoint`, so their responses,
/// access-log lines, rate limiting and audit are the same; the tests run them side by side.
///
/// HTTP/1.1 answers in request order: which requests this path takes, what it holds while one
/// waits for its answer and when reading pauses is `ShareFastPathStateMachine`'s to decide. This
/// handler feeds it the channel's events and does what it says.
final class ShareFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let endpoint: any ShareFastPathEndpoint
    private let accessLog: AccessLog
    private let logger: Logger
    private let outbox: ReplyOutbox
    private let client: String

    private var machine = ShareFastPathStateMachine()
    private var context: ChannelHandlerContext?
    /// A response head has been written and its end has not (on either path).
    private var responseOpen = false

    init(endpoint: any ShareFastPathEndpoint, accessLog: AccessLog, logger: Logger, outbox: ReplyOutbox, client: String) {
        self.endpoint = endpoint
        self.accessLog = accessLog
        self.logger = logger
        self.outbox = outbox
        self.client = client
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        machine.handlerRemoved()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch machine.read(data, unwrapInboundIn(data)) {
        case .forward: context.fireChannelRead(data)
        case .take, .drop, .hold: break
        case .start(let request): start(request, context: context)
        }
    }

    private func start(_ request: ShareFastPathStateMachine.Request, context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let outbox = outbox
        let path = request.head.path ?? "/v1/share", userAgent = request.fields.userAgent, started = request.started
        let client = endpoint.client(peer: client, forwarded: request.fields.forwarded, forwardedFor: request.fields.forwardedFor)
        endpoint.begin(
            authorization: request.fields.authorization, userAgent: userAgent,
            ifNoneMatch: request.fields.ifNoneMatch, client: client
        ) { reply in
            if outbox.eventLoop.inEventLoop {
                handler.value.finish(reply, path: path, userAgent: userAgent, client: client, started: started)
            } else {
                outbox.post { handler.value.finish(reply, path: path, userAgent: userAgent, client: client, started: started) }
            }
        }
    }

    /// Writes the answer (on the event loop), logs it, then goes on with what was held.
    private func finish(_ reply: ShareEndpoint.Reply, path: String, userAgent: String?, client: String, started: ContinuousClock.Instant) {
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
        accessLog.record(
            method: "GET", path: path, status: Int(answer.status.code), started: started,
            client: client, userAgent: userAgent, bytes: answer.body?.readableBytes ?? 0)
        switch machine.requestAnswered() {
        case .none: break
        case .replayHeld: replayHeld()
        }
    }

    /// Replays what arrived while a request waited, in order, until another one waits.
    private func replayHeld() {
        guard let context else { return }
        while true {
            switch machine.nextReplayStep() {
            case .read(let data): channelRead(context: context, data: data)
            case .error(let error): context.fireErrorCaught(error)
            case .event(let event): context.fireUserInboundEventTriggered(event)
            case .finished(let readComplete, let resumeReading):
                if readComplete { context.fireChannelReadComplete() }
                if resumeReading { context.read() }
                return
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch machine.errorCaught(error) {
        case .forward:
            if error is HTTPParserError, !responseOpen { answerMalformed(context: context) }
            context.fireErrorCaught(error)
        case .hold: break
        }
    }

    /// Bad framing (an unknown transfer coding, a bad chunk size): the client's error, answered
    /// here at once with a 400 problem, because the decoder closes the connection as soon as
    /// this returns — before Hummingbird, which would answer the same, could write anything.
    private func answerMalformed(context: ChannelHandlerContext) {
        let answer = Problem.malformedRequest.answer(extraHeaders: [.connection: "close"])
        var fields = answer.headers
        if let body = answer.body { fields[.contentLength] = String(body.readableBytes) }
        fields[.date] = HTTPDate.now()
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: fields))), promise: nil)
        if let body = answer.body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        accessLog.record(
            method: "-", path: "(other)", status: Int(answer.status.code), started: .now, client: client, userAgent: nil,
            bytes: answer.body?.readableBytes ?? 0)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch machine.userInboundEventTriggered(event) {
        case .forward: context.fireUserInboundEventTriggered(event)
        case .hold: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Nobody is left to answer: what was held is dropped (the pending answer's write will
        // fail quietly; its redemption is counted and audited all the same, as on Hummingbird's
        // path).
        machine.channelInactive()
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        switch machine.readRequested() {
        case .read: context.read()
        case .pause: break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational: responseOpen = true
        case .end:
            responseOpen = false
            machine.responseEndWritten()
        default: break
        }
        context.write(data, promise: promise)
    }
}
