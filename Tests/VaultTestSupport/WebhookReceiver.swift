public import Foundation
public import Hummingbird

/// A loopback webhook receiver: what it was sent, and how many deliveries it refuses first.
public final class WebhookReceiver: @unchecked Sendable {
    public struct Delivery: Sendable {
        public let path: String
        public let headers: [String: String]
        public let body: [UInt8]
    }

    private let lock = NSLock()
    private var received: [Delivery] = []
    private var refusals = 0
    private var refusedPath: String?
    private var slowReleased = false
    private var trickleEnded: Date?

    public init() {}

    /// Lets the held `slow` answers go (they are otherwise held for up to 120 s).
    public func releaseSlow() { lock.withLock { slowReleased = true } }

    public var deliveries: [Delivery] { lock.withLock { received } }
    /// When the sender closed a `trickle` answer's connection (nil while it still reads it).
    public var trickleClosedAt: Date? { lock.withLock { trickleEnded } }
    /// Answers 503 to the next `count` deliveries (to `/hook/PATH` only, when given).
    public func refuse(next count: Int, path: String? = nil) {
        lock.withLock {
            refusals = count
            refusedPath = path
        }
    }

    /// Waits (up to `seconds`) until `condition` holds for the deliveries; true when it did.
    public func wait(seconds: Double = 20, until condition: ([Delivery]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(deliveries) { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return condition(deliveries)
    }

    /// A server on 127.0.0.1, a port picked for it: `POST /hook/KIND` records the delivery and
    /// answers 204 (410 for `gone`; for `slow`, only once `releaseSlow()` was called or after
    /// 120 s; 200 and 64 MiB for `big`; for `trickle`, 200 at once and then a byte of gzip every
    /// 100 ms for up to 120 s, noting when the sender closed it), or 503 while refusing.
    public var app: some ApplicationProtocol {
        let router = Router()
        router.post("/hook/:kind") { request, context -> Response in
            var buffer = try await request.body.collect(upTo: 1 << 20)
            let body = buffer.readBytes(length: buffer.readableBytes) ?? []
            let headers = Dictionary(request.headers.map { ($0.name.canonicalName, $0.value) }, uniquingKeysWith: { $1 })
            let kind = context.parameters.get("kind") ?? ""
            let refused = self.lock.withLock { () -> Bool in
                if self.refusals > 0, self.refusedPath == nil || self.refusedPath == kind {
                    self.refusals -= 1
                    return true
                }
                self.received.append(Delivery(path: kind, headers: headers, body: body))
                return false
            }
            if refused { return Response(status: .serviceUnavailable) }
            switch kind {
            case "gone": return Response(status: .gone)
            case "slow":
                // Held until released: the sender must give up first.
                let until = Date().addingTimeInterval(120)
                while Date() < until, !self.lock.withLock({ self.slowReleased }) { try? await Task.sleep(for: .milliseconds(100)) }
                return Response(status: .noContent)
            case "big":
                // 64 MiB the sender must not read.
                let chunk = ByteBuffer(repeating: 0x61, count: 1 << 20)
                return Response(
                    status: .ok, headers: [.contentType: "text/plain"],
                    body: ResponseBody { writer in
                        for _ in 0..<64 { try await writer.write(chunk) }
                        try await writer.finish(nil)
                    })
            case "trickle":
                return Response(
                    status: .ok, headers: [.contentType: "text/plain", .contentEncoding: "gzip", .contentLength: "100000000"],
                    body: ResponseBody { writer in
                        let until = Date().addingTimeInterval(120)
                        do {
                            while Date() < until {
                                try await writer.write(ByteBuffer(bytes: [0x1f]))
                                try await Task.sleep(for: .milliseconds(100))
                            }
                        } catch {
                            self.lock.withLock { self.trickleEnded = self.trickleEnded ?? Date() }
                            throw error
                        }
                        try await writer.finish(nil)
                    })
            default: return Response(status: .noContent)
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}
