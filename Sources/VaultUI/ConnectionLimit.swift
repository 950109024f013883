import NIOCore
import Synchronization

/// Bounds what other local users can hold open (Specs/dashboard.md §6): at most `limit`
/// connections at once — one more is closed as soon as it is accepted — and none for longer
/// than `lifetime`, however it trickles bytes. A process that ran out of file descriptors was
/// killed by a trap in libdispatch; this keeps it far from that.
final class ConnectionLimit: Sendable {
    let limit: Int
    let lifetime: TimeAmount
    private let open = Atomic<Int>(0)

    init(limit: Int = 128, lifetime: TimeAmount = .seconds(120)) {
        self.limit = limit
        self.lifetime = lifetime
    }

    /// A handler for one connection's pipeline.
    func handler() -> Handler { Handler(limits: self) }

    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        let limits: ConnectionLimit
        private var counted = false
        private var deadline: Scheduled<Void>?

        init(limits: ConnectionLimit) { self.limits = limits }

        func handlerAdded(context: ChannelHandlerContext) {
            let count = limits.open.wrappingAdd(1, ordering: .relaxed).newValue
            counted = true
            guard count <= limits.limit else {
                context.close(promise: nil)
                return
            }
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: limits.lifetime) { channel.close(promise: nil) }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            deadline?.cancel()
            if counted {
                counted = false
                limits.open.wrappingSubtract(1, ordering: .relaxed)
            }
        }
    }
}
