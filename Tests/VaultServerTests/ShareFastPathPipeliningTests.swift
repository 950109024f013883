import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing
@testable import VaultServer

/// `ShareFastPath` on an `EmbeddedChannel`, with a stand-in endpoint the test answers by hand:
/// what is held while a fast-path request waits, in what order it comes out, and when reading
/// pauses. (The raw-TCP tests in `ShareEndpointTests` run the same handler against a vault.)
@Suite struct ShareFastPathPipeliningTests {
    /// The handler between a read counter (toward the socket) and a recorder standing for
    /// Hummingbird; the endpoint's replies are sent by the test.
    final class Harness {
        let endpoint = StandInEndpoint()
        let reads = ReadCounter()
        let hummingbird = InboundRecorder()
        let log = LogLines()
        let channel: EmbeddedChannel

        init() throws {
            channel = EmbeddedChannel()
            let fastPath = ShareFastPath(
                endpoint: endpoint, accessLog: AccessLog(sink: { [log] in log.append($0) }),
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                outbox: ReplyOutbox(eventLoop: channel.embeddedEventLoop), client: "192.0.2.1")
            try channel.pipeline.syncOperations.addHandlers([reads, fastPath, hummingbird])
        }

        /// One part arriving from the socket, without the end of a read burst.
        func receive(_ part: HTTPRequestPart) {
            channel.pipeline.syncOperations.fireChannelRead(NIOAny(part))
        }

        /// A whole request without a body.
        func receive(_ path: String, _ fields: HTTPFields = [.authorization: "Bearer t"]) {
            receive(Part.head(path, fields))
            receive(Part.end)
        }

        /// What Hummingbird writes, through the handler.
        func hummingbirdWrites(_ part: HTTPResponsePart) throws {
            try channel.writeOutbound(part)
        }

        /// The responses written so far (status, and `Retry-After` naming which request it answers).
        func written() throws -> [String] {
            var seen: [String] = []
            while let part = try channel.readOutbound(as: HTTPResponsePart.self) {
                switch part {
                case .head(let head): seen.append("\(head.status.code) \(head.headerFields[.retryAfter] ?? "-")")
                case .body: break
                case .end: seen.append("end")
                }
            }
            return seen
        }
    }

    @Test func aFastPathRequestIsHeldUntilAnsweredThenWrittenWithDateAndLengthAndLogged() throws {
        let h = try Harness()
        h.receive("/v1/share?x=1", [.authorization: "Bearer t", .userAgent: "probe"])
        #expect(h.endpoint.begun == ["Bearer t"])
        #expect(h.hummingbird.seen.isEmpty)
        #expect(try h.written().isEmpty)
        h.endpoint.answer(0, with: .rateLimited(retryAfter: 7))
        var parts: [HTTPResponsePart] = []
        while let part = try h.channel.readOutbound(as: HTTPResponsePart.self) { parts.append(part) }
        try #require(parts.count == 3)
        guard case .head(let head) = parts[0], case .body(let body) = parts[1], case .end(nil) = parts[2] else {
            Issue.record("not head, body, end: \(parts)")
            return
        }
        #expect(head.status == .tooManyRequests)
        #expect(head.headerFields[.retryAfter] == "7")
        #expect(head.headerFields[.contentLength] == String(body.readableBytes))
        #expect(head.headerFields[.date]?.hasSuffix(" GMT") == true)
        #expect(h.log.all.count == 1)
        #expect(h.log.all.first?.contains(#""path":"/v1/share","status":429"#) == true)
        #expect(h.log.all.first?.contains(#""user_agent":"probe""#) == true)
    }

    @Test func aPipelinedFastPathRequestIsHeldAndStartedOnlyAfterTheFirstIsAnswered() throws {
        let h = try Harness()
        h.receive("/v1/share", [.authorization: "Bearer one"])
        h.receive("/v1/share", [.authorization: "Bearer two"])
        #expect(h.endpoint.begun == ["Bearer one"])
        h.endpoint.answer(0, with: .rateLimited(retryAfter: 1))
        #expect(h.endpoint.begun == ["Bearer one", "Bearer two"])
        h.endpoint.answer(1, with: .rateLimited(retryAfter: 2))
        #expect(try h.written() == ["429 1", "end", "429 2", "end"])
        // No part reached Hummingbird; the replay ends its read burst all the same.
        #expect(h.hummingbird.seen == ["readComplete"])
    }

    @Test func aPipelinedForwardedRequestIsHeldAndReplayedToHummingbirdAfterTheAnswerWithAReadComplete() throws {
        let h = try Harness()
        h.receive("/v1/share")
        h.receive("/livez")
        #expect(h.hummingbird.seen.isEmpty)
        h.endpoint.answer(0, with: .rateLimited(retryAfter: 1))
        #expect(try h.written() == ["429 1", "end"])
        #expect(h.hummingbird.seen == ["head /livez", "end", "readComplete"])
    }

    @Test func errorsAndEventsArrivingWhileARequestWaitsAreHeldAndReplayedInOrder() throws {
        let h = try Harness()
        h.receive("/v1/share")
        h.receive(Part.head("/livez"))
        h.channel.pipeline.syncOperations.fireErrorCaught(Failure.parse)
        h.channel.pipeline.syncOperations.fireUserInboundEventTriggered(Failure.closed)
        h.receive(Part.end)
        #expect(h.hummingbird.seen.isEmpty)
        h.endpoint.answer(0, with: .rateLimited(retryAfter: 1))
        #expect(h.hummingbird.seen == ["head /livez", "error parse", "event closed", "end", "readComplete"])
        // With nothing waiting they pass straight on.
        h.channel.pipeline.syncOperations.fireErrorCaught(Failure.closed)
        #expect(h.hummingbird.seen.last == "error closed")
    }

    @Test func readsPausePastHeldLimitPartsAndResumeAfterTheAnswer() throws {
        let h = try Harness()
        h.receive("/v1/share")
        h.channel.read()
        #expect(h.reads.count == 1)
        for _ in 0..<(ShareFastPathStateMachine.heldLimit / 2) { h.receive("/livez") }
        h.channel.read()
        #expect(h.reads.count == 1, "paused at \(ShareFastPathStateMachine.heldLimit) held parts")
        h.endpoint.answer(0, with: .rateLimited(retryAfter: 1))
        #expect(h.reads.count == 2)
        #expect(h.hummingbird.seen.filter { $0 == "head /livez" }.count == ShareFastPathStateMachine.heldLimit / 2)
        h.channel.read()
        #expect(h.reads.count == 3)
    }

    @Test func fewerHeldPartsThanTheLimitDoNotPauseReading() throws {
        let h = try Harness()
        h.receive("/v1/share")
        for _ in 0..<(ShareFastPathStateMachine.heldLimit - 1) { h.receive(Part.head("/livez")) }
        h.channel.read()
        #expect(h.reads.count == 1)
    }

    @Test func channelInactiveDropsWhatWasHeldAndTheAnswerIsStillLogged() throws {
        let h = try Harness()
        h.receive("/v1/share")
        h.receive("/livez")
        h.channel.pipeline.syncOperations.fireChannelInactive()
        h.endpoint.answer(0, with: .rateLimited(retryAfter: 1))
        #expect(h.hummingbird.seen == ["inactive"])
        #expect(h.log.all.count == 1)
    }

    @Test func afterAForwardedRequestLaterRequestsGoToHummingbirdUntilItsResponseEndIsWritten() throws {
        let h = try Harness()
        h.receive("/livez")
        h.receive("/v1/share")
        #expect(h.endpoint.begun.isEmpty)
        #expect(h.hummingbird.seen == ["head /livez", "end", "head /v1/share", "end"])
        try h.hummingbirdWrites(.head(HTTPResponse(status: .ok)))
        h.receive("/v1/share")
        #expect(h.endpoint.begun.isEmpty, "a response head alone answers nothing")
        for _ in 0..<2 { try h.hummingbirdWrites(.end(nil)) }
        h.receive("/v1/share")
        #expect(h.endpoint.begun.isEmpty, "one of three forwarded requests is still unanswered")
        for _ in 0..<2 { try h.hummingbirdWrites(.end(nil)) }
        h.receive("/v1/share")
        #expect(h.endpoint.begun.count == 1)
        #expect(h.hummingbird.seen.count == 8)
    }

    @Test func aReplayedRequestAnsweredAtOnceIsWrittenInItsPlaceAndTheReplayGoesOn() throws {
        let h = try Harness()
        h.receive("/v1/share", [.authorization: "Bearer one"])
        h.receive("/v1/share", [.authorization: "Bearer now"])
        h.receive("/livez")
        h.endpoint.answersAtOnce = .rateLimited(retryAfter: 2)
        h.endpoint.answer(0, with: .rateLimited(retryAfter: 1))
        #expect(h.endpoint.begun == ["Bearer one", "Bearer now"])
        #expect(try h.written() == ["429 1", "end", "429 2", "end"])
        #expect(h.hummingbird.seen == ["head /livez", "end", "readComplete"])
        #expect(h.log.all.count == 2)
    }

    @Test func anAnswerThatFailsIsTheSharedInternalErrorProblem() throws {
        let h = try Harness()
        h.receive("/v1/share")
        h.endpoint.answer(0, with: .redeemed(.failure(Failure.closed), admission: .limited(retryAfter: 1)))
        var parts: [HTTPResponsePart] = []
        while let part = try h.channel.readOutbound(as: HTTPResponsePart.self) { parts.append(part) }
        try #require(parts.count == 3)
        guard case .head(let head) = parts[0], case .body(let body) = parts[1] else { Issue.record("\(parts)"); return }
        #expect(head.status == .internalServerError)
        #expect(head.headerFields[.contentType] == "application/problem+json")
        #expect(String(buffer: body) == Problem.internalError.body)
        #expect(h.log.all.first?.contains(#""status":500"#) == true)
    }
}

/// Stands in for `ShareEndpoint`: records what was begun, and replies when the test says.
final class StandInEndpoint: ShareFastPathEndpoint, @unchecked Sendable {
    private let lock = NSLock()
    private var authorizations: [String] = []
    private var replies: [@Sendable (ShareEndpoint.Reply) -> Void] = []
    private var atOnce: ShareEndpoint.Reply?

    /// The `Authorization` of each request begun, in order.
    var begun: [String] { lock.withLock { authorizations } }

    /// When set, requests begun from now on are answered at once, on the calling thread (as
    /// `ShareEndpoint` answers a rate-limited client).
    var answersAtOnce: ShareEndpoint.Reply? {
        get { lock.withLock { atOnce } }
        set { lock.withLock { atOnce = newValue } }
    }

    func begin(
        authorization: String?, userAgent: String?, ifNoneMatch: String?, client: String,
        reply: @escaping @Sendable (ShareEndpoint.Reply) -> Void
    ) {
        let now = lock.withLock {
            authorizations.append(authorization ?? "")
            replies.append(reply)
            return atOnce
        }
        if let now { reply(now) }
    }

    /// As `ShareEndpoint` answers: a problem for a rate-limited client, or the failure thrown.
    func answer(_ reply: ShareEndpoint.Reply, client: String) throws -> ShareAnswer {
        switch reply {
        case .rateLimited(let wait): return Problem.rateLimited.answer(extraHeaders: [.retryAfter: String(wait)])
        case .redeemed(let result, _):
            _ = try result.get()
            return ShareAnswer(status: .ok, headers: [:], body: nil)
        }
    }

    /// Sends the reply of the `index`th request begun.
    func answer(_ index: Int, with reply: ShareEndpoint.Reply) {
        let send = lock.withLock { index < replies.count ? replies[index] : nil }
        guard let send else { Issue.record("request \(index) was never begun"); return }
        send(reply)
    }
}

/// Counts `read()` calls that get past the handler.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    typealias OutboundOut = Any
    private(set) var count = 0

    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}

/// Stands for Hummingbird: records in words what reaches it.
final class InboundRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTPRequestPart
    private(set) var seen: [String] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        seen.append(describe(unwrapInboundIn(data)))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        seen.append("readComplete")
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        seen.append("error \(error)")
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        seen.append("event \(event)")
    }

    func channelInactive(context: ChannelHandlerContext) {
        seen.append("inactive")
    }
}
