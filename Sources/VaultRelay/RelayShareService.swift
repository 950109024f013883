import Dispatch
import Foundation
import Synchronization
import VaultCore
import VaultCrypto
import VaultServer

/// `GET /v1/share` for many vaults: the token's selector finds the vault, and each vault has
/// its own `Redeemer` and group-commit writer over its `RelayVaultStore` — the same redemption
/// code as `vrm serve`, so the answers, the rules and the history entries are the same.
/// Unknown selectors are answered 401 with no entry (no vault to record them in).
final class RelayShareService: ShareService {
    let database: RelayDatabase
    let clock: VaultClock
    /// Selector → vault, for selectors a lookup found (a selector never moves to another vault).
    private let vaults = Mutex<[[UInt8]: RelayVault]>([:])
    /// Vault id → its writer, created on first use.
    private let writers = Mutex<[[UInt8]: GroupCommitWriter]>([:])
    /// Lookups block on PostgreSQL: they run here, off the event loops.
    private let lookups = DispatchQueue(label: "vrm.relay.lookup", attributes: .concurrent)
    static let capacity = 100_000

    init(database: RelayDatabase, clock: @escaping VaultClock) {
        self.database = database
        self.clock = clock
    }

    func submit(_ request: RedemptionRequest, reply: @escaping @Sendable (Result<RedemptionOutcome, any Error>) -> Void) {
        guard let token = request.token else {
            return reply(.success(request.limited ? .rateLimited : .invalidToken))
        }
        if let vault = vaults.withLock({ $0[token.selector] }) {
            return redeem(request, at: vault, reply: reply)
        }
        lookups.async {
            do {
                guard let vault = try self.database.vault(selector: token.selector) else {
                    return reply(.success(request.limited ? .rateLimited : .invalidToken))
                }
                self.vaults.withLock { vaults in
                    if vaults.count >= Self.capacity { vaults.removeAll(keepingCapacity: true) }
                    vaults[token.selector] = vault
                }
                self.redeem(request, at: vault, reply: reply)
            } catch {
                reply(.failure(error))
            }
        }
    }

    private func redeem(
        _ request: RedemptionRequest, at vault: RelayVault, reply: @escaping @Sendable (Result<RedemptionOutcome, any Error>) -> Void
    ) {
        let writer: GroupCommitWriter
        do {
            writer = try writers.withLock { writers in
                if let writer = writers[vault.id] { return writer }
                if writers.count >= Self.capacity { writers.removeAll(keepingCapacity: true) }
                let writer = GroupCommitWriter(
                    redeemer: try Redeemer(store: RelayVaultStore(database: database, vault: vault), clock: clock))
                writers[vault.id] = writer
                return writer
            }
        } catch {
            return reply(.failure(error))
        }
        writer.submit(request) { result in
            // The vault was unlinked meanwhile: its grants are gone, so its tokens are unknown.
            if case .failure(let error) = result, case RelayError.unknownVault = error {
                self.forget(vault)
                return reply(.success(request.limited ? .rateLimited : .invalidToken))
            }
            // The customer rotated the vault's key: read the vault again and redo the request
            // with a writer that seals to the new key (nothing of it was written or released).
            if case .failure(let error) = result, case RelayError.boxKeyChanged = error {
                self.forget(vault)
                return self.submit(request, reply: reply)
            }
            // A selector this vault no longer holds (its grant deleted) is looked up afresh next time.
            if case .success(.invalidToken) = result, let selector = request.token?.selector {
                self.vaults.withLock { _ = $0.removeValue(forKey: selector) }
            }
            reply(result)
        }
    }

    private func forget(_ vault: RelayVault) {
        vaults.withLock { vaults in vaults = vaults.filter { $0.value.id != vault.id } }
        writers.withLock { _ = $0.removeValue(forKey: vault.id) }
    }

    func isReady() async -> Bool {
        await offload { self.database.ping() }
    }

    func keySet(token: GrantToken?) async throws -> VaultJWKSet? {
        guard let token else { return nil }
        let vault = try await offload { try self.database.vault(selector: token.selector) }
        return vault.map { VaultJWKSet(keys: [VaultJWK(publicKey: $0.signKey)]) }
    }

    func notificationKey(token: GrantToken?) async throws -> VaultJWK? {
        guard let token else { return nil }
        let database = self.database
        return try await offload {
            guard let vault = try database.vault(selector: token.selector) else { return nil }
            return try database.notificationJWK(vaultID: vault.id)
        }
    }

    func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            lookups.async { continuation.resume(with: Result { try work() }) }
        }
    }

    func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            lookups.async { continuation.resume(returning: work()) }
        }
    }
}
