import Dispatch
import Synchronization
import VaultCore

/// Group commit for redemptions: each request is prepared on its own thread (checks, decryption,
/// audit sealing — `Redeemer.prepare`); those that arrive while a batch is committing wait, and
/// the next batch takes them all into one transaction and one fsync. A request is answered
/// only after the transaction that counted and audited it has committed.
final class GroupCommitQueue: Sendable {
    typealias Reply = @Sendable (Result<RedemptionOutcome, any Error>) -> Void

    struct Job: Sendable {
        let prepared: PreparedRedemption
        /// Called exactly once, by the writer, after the batch's transaction has ended.
        let reply: Reply
    }

    struct State {
        var jobs: [Job] = []
        var draining = false
    }

    /// Most requests in one transaction; more wait for the next one.
    static let maxBatch = 512

    let redeemer: Redeemer
    private let state = Mutex(State())
    /// SQLite calls block: the writer runs here, off the cooperative thread pool.
    private let queue = DispatchQueue(label: "vrm.server.group-commit", qos: .userInitiated)

    init(redeemer: Redeemer) {
        self.redeemer = redeemer
    }

    /// Prepares the request on this thread and queues it; `reply` runs on the writer's thread
    /// once the transaction that counted and audited it has committed (or failed).
    func submit(_ request: RedemptionRequest, reply: @escaping Reply) {
        let job = Job(prepared: redeemer.prepare(request), reply: reply)
        let start = state.withLock { state -> Bool in
            state.jobs.append(job)
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        if start { queue.async { self.drain() } }
    }

    private func drain() {
        while true {
            let batch = state.withLock { state -> [Job] in
                let taken = Array(state.jobs.prefix(Self.maxBatch))
                state.jobs.removeFirst(taken.count)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            guard !batch.isEmpty else { return }
            // A failed commit fails only its own requests: nothing in them was counted,
            // audited or released.
            let results = redeemer.commit(batch.map(\.prepared))
            for (job, result) in zip(batch, results) { job.reply(result) }
        }
    }
}
