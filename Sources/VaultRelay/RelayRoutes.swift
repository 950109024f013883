import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VaultCore
import VaultCrypto
import VaultServer

/// The relay's control API for the customer's CLI (`Specs/relay.md`): enrolment with an
/// invite, then requests signed by the vault's Ed25519 key (`RequestSignature`) to push grants,
/// pull and acknowledge history, read status and unlink.
struct RelayRoutes: Sendable {
    let database: RelayDatabase
    let service: RelayShareService
    let clock: VaultClock

    func register(on router: Router<VaultRequestContext>) {
        let base = "/v1/relay/vaults"
        router.post(RouterPath(base)) { request, _ in try await enrol(request) }
        router.get(RouterPath(base + "/:vault")) { request, context in
            let vault = try await authenticate(request, context)
            let status = try await run { try database.status(vaultID: vault.id) }
            return try json(status)
        }
        router.delete(RouterPath(base + "/:vault")) { request, context in
            let vault = try await authenticate(request, context)
            _ = try await run { try database.unlink(vaultID: vault.id) }
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        router.put(RouterPath(base + "/:vault/grants")) { request, context in
            let body = try await collect(request)
            let vault = try await authenticate(request, context, body: body)
            let push = try decode(RelayWire.Push.self, body)
            let now = Millis.from(clock())
            let statuses = try await run { try database.push(vaultID: vault.id, grants: push.grants, deleted: push.deleted, nowMillis: now) }
            return try json(RelayWire.GrantStatuses(grants: statuses))
        }
        router.put(RouterPath(base + "/:vault/keys")) { request, context in
            let body = try await collect(request)
            let vault = try await authenticate(request, context, body: body)
            let keys = try decode(RelayWire.Keys.self, body)
            guard let box = Base64URL.decode(keys.boxKey), box.count == 32 else { throw ProblemError(problem: .invalidBody) }
            try await run { try database.updateBoxKey(vaultID: vault.id, boxKey: box) }
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        router.put(RouterPath(base + "/:vault/notify")) { request, context in
            let body = try await collect(request)
            let vault = try await authenticate(request, context, body: body)
            let notify = try decode(RelayWire.Notify.self, body)
            try await run { try database.storeNotify(vaultID: vault.id, notify: notify) }
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        router.get(RouterPath(base + "/:vault/webhooks")) { request, context in
            let vault = try await authenticate(request, context)
            let grant = request.uri.queryParameters["grant"].map(String.init) ?? ""
            guard (1...64).contains(grant.utf8.count) else { throw ProblemError(problem: .invalidBody) }
            return try json(RelayWire.WebhookEvents(events: try await run { try database.webhookEvents(vaultID: vault.id, grantID: grant) }))
        }
        router.put(RouterPath(base + "/:vault/links")) { request, context in
            let body = try await collect(request)
            let vault = try await authenticate(request, context, body: body)
            let links = try decode(RelayWire.RequestLinks.self, body)
            let now = Millis.from(clock())
            try await run { try database.storeLinks(vaultID: vault.id, links: links.links, nowMillis: now) }
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        router.get(RouterPath(base + "/:vault/requests")) { request, context in
            let vault = try await authenticate(request, context)
            return try json(RelayWire.PendingRequests(requests: try await run { try database.pendingRequests(vaultID: vault.id) }))
        }
        router.put(RouterPath(base + "/:vault/requests")) { request, context in
            let body = try await collect(request)
            let vault = try await authenticate(request, context, body: body)
            let decisions = try decode(RelayWire.Decisions.self, body)
            let now = Millis.from(clock())
            try await run { try database.storeDecisions(vaultID: vault.id, decisions: decisions.decisions, nowMillis: now) }
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
        router.get(RouterPath(base + "/:vault/grants")) { request, context in
            let vault = try await authenticate(request, context)
            return try json(RelayWire.GrantStatuses(grants: try await run { try database.grantStatuses(vaultID: vault.id) }))
        }
        router.get(RouterPath(base + "/:vault/history")) { request, context in
            let vault = try await authenticate(request, context)
            let after = request.uri.queryParameters["after"].flatMap { Int64($0) } ?? 0
            guard after >= 0 else { throw ProblemError(problem: .invalidBody) }
            return try json(try await run { try database.history(vaultID: vault.id, after: after) })
        }
        router.post(RouterPath(base + "/:vault/history/ack")) { request, context in
            let body = try await collect(request)
            let vault = try await authenticate(request, context, body: body)
            let ack = try decode(RelayWire.Ack.self, body)
            try await run { try database.acknowledge(vaultID: vault.id, through: ack.through) }
            return Response(status: .noContent, headers: [.cacheControl: "no-store"])
        }
    }

    /// `POST /v1/relay/vaults`: the body names the vault and its keys, the signature proves the
    /// sender holds the signing key, the invite that the operator allowed it.
    private func enrol(_ request: Request) async throws -> Response {
        // Before anything is authenticated, a small body only.
        let body = try await collect(request, limit: ServerLimits.maxBodyBytes)
        let enrolment = try decode(RelayWire.Enrolment.self, body)
        guard let id = Hex.decode(enrolment.vaultID), id.count == 16,
            let sign = Base64URL.decode(enrolment.signingKey), sign.count == SigningKeyPair.publicKeyBytes,
            let box = Base64URL.decode(enrolment.boxKey), box.count == 32
        else { throw ProblemError(problem: .invalidBody) }
        let now = Millis.from(clock())
        guard let signature = RelayRoutes.signatureField.flatMap({ request.headers[$0] }).flatMap(RequestSignature.parse), signature.vaultID == id,
            signature.verifies(
                method: "POST", authority: request.head.authority ?? "", path: Self.target(request), body: body, publicKey: sign,
                nowMillis: now)
        else { throw ProblemError(problem: .badSignature) }
        let vault = RelayVault(id: id, signKey: sign, boxKey: box)
        try await run {
            try database.enrol(vault, inviteHash: RelayInvite.hash(enrolment.invite), nowMillis: now)
            _ = try database.useNonce(vaultID: id, nonce: signature.nonce, nowMillis: now)
        }
        return Response(status: .created, headers: [.cacheControl: "no-store"])
    }

    /// The vault a signed request comes from, once its signature, time and nonce check out.
    private func authenticate(_ request: Request, _ context: VaultRequestContext, body: [UInt8] = []) async throws -> RelayVault {
        guard let id = context.parameters.get("vault").flatMap({ Hex.decode($0) }), id.count == 16 else {
            throw ProblemError(problem: .unknownVault)
        }
        guard let signature = RelayRoutes.signatureField.flatMap({ request.headers[$0] }).flatMap(RequestSignature.parse), signature.vaultID == id else {
            throw ProblemError(problem: .badSignature)
        }
        guard let vault = try await run({ try database.vault(id: id) }) else { throw ProblemError(problem: .unknownVault) }
        let now = Millis.from(clock())
        guard
            signature.verifies(
                method: request.method.rawValue, authority: request.head.authority ?? "", path: Self.target(request), body: body,
                publicKey: vault.signKey, nowMillis: now)
        else { throw ProblemError(problem: .badSignature) }
        guard try await run({ try database.useNonce(vaultID: id, nonce: signature.nonce, nowMillis: now) }) else {
            throw ProblemError(problem: .replayed)
        }
        return vault
    }

    static let signatureField = HTTPField.Name(RequestSignature.header)

    /// The path and query the client signed.
    static func target(_ request: Request) -> String {
        request.uri.query.map { request.uri.path + "?" + $0 } ?? request.uri.path
    }

    private func collect(_ request: Request, limit: Int = ServerLimits.maxControlBodyBytes) async throws -> [UInt8] {
        var buffer = try await request.body.collect(upTo: limit)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    private func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        do {
            return try RelayWire.decode(type, Data(body))
        } catch {
            throw ProblemError(problem: .invalidBody)
        }
    }

    private func json(_ value: some Encodable) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try RelayWire.encode(value))))
    }

    /// Runs blocking database work off the cooperative pool; relay errors become problems.
    @discardableResult
    private func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await service.offload(work)
        } catch let error as RelayError {
            switch error {
            case .unknownVault: throw ProblemError(problem: .unknownVault)
            case .boxKeyChanged: throw ProblemError(problem: .notReady)
            case .invalidInvite: throw ProblemError(problem: .invalidInvite)
            case .alreadyEnrolled: throw ProblemError(problem: .alreadyEnrolled)
            case .invalidGrant: throw ProblemError(problem: .invalidBody)
            case .unreachable, .database, .badLocation: throw ProblemError(problem: .notReady)
            }
        }
    }
}

/// Enrolment codes: `vrmi_` + base64url of 18 random bytes, shown once; the relay keeps a
/// BLAKE2b hash.
public enum RelayInvite {
    public static func generate() -> String {
        "vrmi_" + Base64URL.encode(Random.bytes(18))
    }

    public static func hash(_ code: String) -> [UInt8] {
        BLAKE2b.hash([Array("vrm-relay-invite-v1".utf8), Array(code.trimmingCharacters(in: .whitespacesAndNewlines).utf8)])
    }
}
