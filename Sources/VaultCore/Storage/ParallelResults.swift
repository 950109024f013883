import Synchronization

/// Per-worker results of `Vault.parallelChunks`, filled from several threads.
final class ParallelResults<R: Sendable>: Sendable {
    private let slots: Mutex<[Result<R, any Error>?]>

    init(count: Int) {
        slots = Mutex(Array(repeating: nil, count: count))
    }

    func set(_ index: Int, _ result: Result<R, any Error>) {
        slots.withLock { $0[index] = result }
    }

    /// The results in worker order; the first error wins.
    func all() throws -> [R] {
        try slots.withLock { slots in try slots.compactMap { try $0?.get() } }
    }
}
