import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing
@testable import VaultServer

/// A request that fails in a way nothing else answers gets the same 500 and the same log line
/// on both server paths (`EdgeResponder` around the router, and `ShareFastPath`): both go
/// through `Problem.requestFailed`.
@Suite struct RequestFailedAnswerTests {
    /// The router path: `EdgeResponder` around a responder that throws `error` (the router
    /// itself answers an `HTTPResponseError` a route throws, so it stands in for what throws
    /// past it: a body too large to collect, a failing middleware).
    func edgeAnswer(_ error: any Error & Sendable) async throws -> (status: Int, body: String, type: String?, logged: [String]) {
        let records = LogRecords()
        let app = Application(
            responder: EdgeResponder(inner: Throwing(error: error), accessLog: AccessLog(sink: { _ in }), proxies: .none),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            logger: Logger(label: "test") { _ in CapturingLogHandler(records: records) })
        return try await app.test(.router) { client in
            try await client.execute(uri: "/v1/share", method: .get) { response in
                (Int(response.status.code), String(buffer: response.body), response.headers[.contentType], records.all)
            }
        }
    }

    /// The fast path: an endpoint whose answer throws.
    func fastPathAnswer(_ error: any Error & Sendable) throws -> (status: Int, body: String, type: String?, logged: [String]) {
        let records = LogRecords()
        let endpoint = StandInEndpoint()
        let channel = EmbeddedChannel()
        let fastPath = ShareFastPath(
            endpoint: endpoint, accessLog: AccessLog(sink: { _ in }),
            logger: Logger(label: "test") { _ in CapturingLogHandler(records: records) },
            outbox: ReplyOutbox(eventLoop: channel.embeddedEventLoop), client: "192.0.2.1")
        try channel.pipeline.syncOperations.addHandler(fastPath)
        try channel.writeInbound(Part.head("/v1/share"))
        try channel.writeInbound(Part.end)
        endpoint.answer(0, with: .redeemed(.failure(error), admission: .limited(retryAfter: 1)))
        guard case .head(let head) = try channel.readOutbound(as: HTTPResponsePart.self),
            case .body(let body) = try channel.readOutbound(as: HTTPResponsePart.self)
        else { throw Failure.parse }
        return (Int(head.status.code), String(buffer: body), head.headerFields[.contentType], records.all)
    }

    @Test func anErrorIsAnswered500WithTheSameBodyAndLoggedByItsTypeOnBothPaths() async throws {
        let router = try await edgeAnswer(Failure.closed)
        let fastPath = try fastPathAnswer(Failure.closed)
        #expect(router.status == 500)
        #expect(router.body == Problem.internalError.body)
        #expect(router.type == "application/problem+json")
        #expect(router.logged == ["error request failed [error: Failure]"])
        #expect(fastPath.status == router.status && fastPath.body == router.body && fastPath.type == router.type)
        #expect(fastPath.logged == router.logged)
    }

    @Test func anHTTPErrorNoProblemMapsIsAnswered500AndLoggedByItsStatusOnBothPaths() async throws {
        let router = try await edgeAnswer(HTTPError(.badGateway))
        let fastPath = try fastPathAnswer(HTTPError(.badGateway))
        #expect(router.status == 500 && router.body == Problem.internalError.body)
        #expect(router.logged == ["error request failed [status: 502]"])
        #expect(fastPath.status == 500 && fastPath.logged == router.logged)
    }
}

/// A responder that fails every request with one error.
struct Throwing: HTTPResponder {
    typealias Context = VaultRequestContext
    let error: any Error & Sendable

    func respond(to request: Request, context: VaultRequestContext) async throws -> Response {
        throw error
    }
}

/// Log records in words: level, message, and the metadata given with the message.
final class LogRecords: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [String] = []
    func append(_ record: String) { lock.withLock { records.append(record) } }
    var all: [String] { lock.withLock { records } }
}

/// Keeps what is logged at warning and above, in words (the logger's own metadata, such as
/// Hummingbird's request id, left out).
struct CapturingLogHandler: LogHandler {
    let records: LogRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let given = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        records.append("\(event.level) \(event.message) [\(given.joined(separator: ", "))]")
    }
}
