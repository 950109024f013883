public import Foundation
public import Hummingbird
public import VaultCore
public import VaultCrypto

/// Where `GET /v1/share` is answered from, behind the HTTP stack that both `vrm serve` and the
/// relay share (`buildShareApplication`): the vault file's group-commit writer
/// (`VaultShareService`), or the relay's PostgreSQL store, which finds the vault by the token's
/// selector.
public protocol ShareService: Sendable {
    /// Prepares `request` and hands it to a writer; `reply` runs exactly once, after the
    /// transaction that counted and recorded it has ended (or at once when nothing is written).
    /// Never blocks the calling thread (it may be an event loop).
    func submit(_ request: RedemptionRequest, reply: @escaping @Sendable (Result<RedemptionOutcome, any Error>) -> Void)
    /// Whether redemptions can be answered now (`/readyz`).
    func isReady() async -> Bool
    /// The signing keys of the vault that a `GET /.well-known/jwks.json` asks for: the vault of
    /// the request's bearer token (a relay serves many); nil when there is none.
    func keySet(token: GrantToken?) async throws -> VaultJWKSet?
    /// The notification key (`Specs/requests.md` §5) of the same vault, with its certificate;
    /// nil when there is none. Kept out of the JWK Set: it must never pass for a share's signer.
    func notificationKey(token: GrantToken?) async throws -> VaultJWK?
}

/// `vrm serve`'s share service: one vault file, one group-commit writer.
struct VaultShareService: ShareService {
    let commits: GroupCommitQueue
    let keys: VaultJWKSet
    /// Where the notification key is read from (it may be made while the server runs).
    let webhooks: VaultWebhookStore

    func submit(_ request: RedemptionRequest, reply: @escaping @Sendable (Result<RedemptionOutcome, any Error>) -> Void) {
        commits.submit(request, reply: reply)
    }

    func isReady() async -> Bool {
        let redeemer = commits.redeemer
        return await ShareRoutes.offload { redeemer.isReady() }
    }

    func keySet(token: GrantToken?) async throws -> VaultJWKSet? { keys }

    func notificationKey(token: GrantToken?) async throws -> VaultJWK? {
        let webhooks = self.webhooks
        return try await ShareRoutes.offloadThrowing { try webhooks.notificationJWK() }
    }
}

/// A per-vault group-commit writer, for share services that keep one per vault (the relay).
public final class GroupCommitWriter: Sendable {
    let queue: GroupCommitQueue

    public init(redeemer: Redeemer) {
        queue = GroupCommitQueue(redeemer: redeemer)
    }

    /// See `ShareService.submit`.
    public func submit(_ request: RedemptionRequest, reply: @escaping @Sendable (Result<RedemptionOutcome, any Error>) -> Void) {
        queue.submit(request, reply: reply)
    }
}
