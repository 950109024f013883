import Dispatch
import Synchronization

/// Results of work split into numbered parts (`Vault.parallelMap`, `Vault.pipelined`),
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

extension Vault {
    /// Steps `statement` to its end on this thread, turning each row into a value with `read`;
    /// every `chunkSize` values go to another thread for `process` as soon as they are read, so
    /// the serial read and the processing overlap on every core; rows that fit in one chunk are
    /// processed on this thread. The results in chunk order (one chunk, possibly empty, at
    /// least); the first chunk's error wins. Returns only once
    /// every chunk handed out is done, even when reading fails.
    static func pipelined<Item: Sendable, R: Sendable>(
        _ statement: RawStatement, chunkSize: Int = 4096, read: (RawStatement) -> Item,
        process: @escaping @Sendable ([Item]) throws -> R
    ) throws -> [R] {
        let results = ParallelResults<R>()
        let group = DispatchGroup()
        defer { group.wait() }
        var count = 0
        func handOut(_ items: [Item]) {
            let slot = count
            count += 1
            DispatchQueue.global(qos: .userInitiated).async(group: group) {
                results.set(slot, Result { try process(items) })
            }
        }
        defer { statement.reset() }
        var chunk: [Item] = []
        while try statement.step() {
            chunk.append(read(statement))
            if chunk.count == chunkSize {
                handOut(chunk)
                chunk = []
            }
        }
        // Rows that fit one chunk are processed here: no thread hop for small reads.
        if count == 0 { return [try process(chunk)] }
        if !chunk.isEmpty { handOut(chunk) }
        group.wait()
        return try results.all()
    }
}
