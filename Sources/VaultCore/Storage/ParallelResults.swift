import Synchronization

/// Results of work split into numbered parts (`Vault.parallelChunks`, `Vault.foldPurchases`),
/// filled from several threads.
final class ParallelResults<R: Sendable>: Sendable {
    private let slots = Mutex<[Result<R, any Error>?]>([])

    func set(_ index: Int, _ result: Result<R, any Error>) {
        slots.withLock { slots in
            if slots.count <= index { slots.append(contentsOf: repeatElement(nil, count: index + 1 - slots.count)) }
            slots[index] = result
        }
    }

    /// The results in part order; the first error wins.
    func all() throws -> [R] {
        try slots.withLock { slots in try slots.compactMap { try $0?.get() } }
    }
}
