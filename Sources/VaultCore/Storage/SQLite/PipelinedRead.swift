import Dispatch
import Foundation
import Synchronization

/// Results of work split into numbered parts (`SQLiteReads.pipelined`, `SQLiteReads.parallelMap`),
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

/// How the table layer spreads bulk reads over the machine's cores. Decrypting and decoding
/// sealed rows costs more than reading them, so the reads that return thousands of rows (the
/// reports, `vrm audit`, shares of all purchases, the grant list) hand their rows to other
/// threads as they are read.
enum SQLiteReads {
    /// Steps `statement` to its end on this thread, turning each row into a value with `read`;
    /// every `chunkSize` values go to another thread for `process` as soon as they are read, so
    /// the serial read and the processing overlap on every core; rows that fit in one chunk are
    /// processed on this thread. The results in chunk order (one chunk, possibly empty, at
    /// least); the first chunk's error wins. Returns only once every chunk handed out is done,
    /// even when reading fails.
    static func pipelined<Item: Sendable, R: Sendable>(
        _ statement: RawStatement, chunkSize: Int = 4096, read: (RawStatement) throws -> Item,
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
            chunk.append(try read(statement))
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

    /// `map` over large inputs split across the machine's cores (in order); small inputs stay serial.
    static func parallelMap<T: Sendable, R: Sendable>(_ input: [T], _ transform: @Sendable (T) throws -> R) throws -> [R] {
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, 8)
        guard input.count >= 4096, workers > 1 else { return try input.map(transform) }
        let chunk = (input.count + workers - 1) / workers
        let results = ParallelResults<[R]>()
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let range = (w * chunk)..<min(input.count, (w + 1) * chunk)
            results.set(w, Result { try input[range].map(transform) })
        }
        return try results.all().flatMap { $0 }
    }

    /// Runs `background` on another thread while `meanwhile` runs on this one, and returns
    /// both results once both are done (also when `meanwhile` throws).
    static func overlapping<B: Sendable, R>(_ background: @escaping @Sendable () throws -> B, meanwhile: () throws -> R) throws -> (R, B) {
        let decoded = ParallelResults<B>()
        let group = DispatchGroup()
        DispatchQueue.global(qos: .userInitiated).async(group: group) {
            decoded.set(0, Result { try background() })
        }
        let value: R
        do {
            value = try meanwhile()
        } catch {
            group.wait()
            throw error
        }
        group.wait()
        guard let result = try decoded.all().first else { throw VaultError.storage("a background read did not finish") }
        return (value, result)
    }
}
