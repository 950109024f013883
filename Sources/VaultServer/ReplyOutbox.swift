import NIOCore
import Synchronization

/// Work for one event loop, posted from other threads: the first post after a drain schedules
/// one task on the loop, and the rest of a batch's replies ride along with it.
final class ReplyOutbox: Sendable {
    let eventLoop: any EventLoop
    private let pending = Mutex<[@Sendable () -> Void]>([])

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func post(_ work: @escaping @Sendable () -> Void) {
        let first = pending.withLock { pending in
            pending.append(work)
            return pending.count == 1
        }
        if first { eventLoop.execute { self.drain() } }
    }

    private func drain() {
        var work: [@Sendable () -> Void] = []
        pending.withLock { swap(&work, &$0) }
        for item in work { item() }
    }
}

/// One `ReplyOutbox` per event loop, shared by that loop's connections.
final class ReplyOutboxes: Sendable {
    private let outboxes = Mutex<[ObjectIdentifier: ReplyOutbox]>([:])

    func outbox(for eventLoop: any EventLoop) -> ReplyOutbox {
        outboxes.withLock { outboxes in
            if let outbox = outboxes[ObjectIdentifier(eventLoop)] { return outbox }
            let outbox = ReplyOutbox(eventLoop: eventLoop)
            outboxes[ObjectIdentifier(eventLoop)] = outbox
            return outbox
        }
    }
}
