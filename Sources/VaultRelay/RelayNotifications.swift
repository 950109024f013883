public import Foundation
public import VaultCore
import VaultCrypto
import VaultServer

/// The customer's notices at the relay: for each vault with a channel, a node claims the vault's
/// row, reads what changed since the state kept there (`NoticeBatcher`), sends a notice when one
/// is due, and writes the state back.
public final class RelayNotifier: Sendable {
    let database: RelayDatabase
    let clock: VaultClock
    let webhooks: WebhookDeliverer
    let allowLoopback: Bool

    /// `allowLoopback`: send to this machine's own addresses too (a relay tried out on one
    /// machine). Without it, a vault cannot have the relay POST to services on the relay's host.
    public init(database: RelayDatabase, clock: @escaping VaultClock = { Date() }, allowLoopback: Bool = false) {
        self.database = database
        self.clock = clock
        self.allowLoopback = allowLoopback
        webhooks = WebhookDeliverer(
            store: RelayWebhookStore(database: database), clock: clock,
            refusal: { url in !allowLoopback && NotifyURL.isLoopback(url) ? NotifyURL.loopbackRefusal : nil })
    }

    /// One round of vendors' events and one of customers' notices, side by side: a slow
    /// webhook receiver does not hold a customer's notice.
    public func tick() async {
        async let events: Int = webhooks.deliverDue()
        await notices()
        _ = await events
    }

    /// Each vault's notice, when one is due: eight vaults at a time, so that one customer's slow
    /// receiver (up to the sender's 10 s) holds no other's notice; each claim is made at its
    /// own time, so a long round cannot make a claim that is already over.
    func notices() async {
        let database = self.database
        let clock = self.clock
        let allowLoopback = self.allowLoopback
        guard let vaults = try? await blockingRelay({ try database.vaultsWithNotices(nowMillis: Millis.from(clock())) }) else { return }
        await withTaskGroup(of: Void.self) { group in
            for (index, vault) in vaults.enumerated() {
                if index >= Self.noticesAtOnce { await group.next() }
                group.addTask { await Self.notice(vault: vault, database: database, clock: clock, allowLoopback: allowLoopback) }
            }
        }
    }

    static let noticesAtOnce = 8

    /// Claims one vault's notice state, sends its notice if one is due, and writes the state back.
    /// A channel on the relay's own machine, when not allowed, is kept as it is and sent nothing.
    static func notice(vault: [UInt8], database: RelayDatabase, clock: @escaping VaultClock, allowLoopback: Bool) async {
        let now = Millis.from(clock())
        guard let work = try? await blockingRelay({ try database.claimNotice(vaultID: vault, nowMillis: now) }) else { return }
        var batcher = work.batcher
        let batch = batcher.advance(work.read, interval: work.channel.interval, nowMillis: now)
        if let batch, allowLoopback || !NotifyURL.isLoopback(work.channel.url) {
            _ = await CustomerNotifier.send(batch, to: work.channel, signer: work.signer, atMillis: now)
        }
        let state = batcher
        _ = try? await blockingRelay { try database.releaseNotice(vaultID: vault, state: state) }
    }

    /// Events and notices every `interval`, each on its own loop, until the task is cancelled.
    public func run(every interval: Duration = .seconds(1)) async {
        let webhooks = self.webhooks
        async let events: Void = webhooks.run(every: interval)
        while !Task.isCancelled {
            await notices()
            try? await Task.sleep(for: interval)
        }
        await events
    }
}

/// Runs blocking PostgreSQL work off the cooperative pool.
func blockingRelay<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
