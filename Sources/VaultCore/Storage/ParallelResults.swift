import Synchronization

/// Per-worker results of `Vault.parallelMap`, filled from several threads.
final class ParallelResults<R: Sendable>: Sendable {
    private let slots: Mutex<[Result<[R], any Error>?]>

    init(count: Int) {
        slots = Mutex(Array(repeating: nil, count: count))
    }

    func set(_ index: Int, _ result: Result<[R], any Error>) {
        slots.withLock { $0[index] = result }
    }

    /// All results in worker order; the first error wins.
    func joined() throws -> [R] {
        try slots.withLock { slots in try slots.flatMap { try $0?.get() ?? [] } }
    }
}
