import HummingbirdCore
import Logging
import NIOCore

/// HTTP/1.1 as Hummingbird serves it, plus the event-loop fast path for `GET /v1/share`
/// (`ShareFastPath`), which it places after Hummingbird's connection-state handler.
struct VaultHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let endpoint: ShareEndpoint
    let accessLog: AccessLog
    let outboxes: ReplyOutboxes

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let endpoint = endpoint, accessLog = accessLog, outboxes = outboxes
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // After the connection-state handler, so it sees fast-path requests too: its idle
            // timeout and graceful shutdown count them like any other request.
            let pipeline = channel.pipeline.syncOperations
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            let fastPath = ShareFastPath(
                endpoint: endpoint, accessLog: accessLog, logger: logger,
                outbox: outboxes.outbox(for: channel.eventLoop),
                client: VaultRequestContext.ipText(channel.remoteAddress))
            try pipeline.addHandler(fastPath, position: .after(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
