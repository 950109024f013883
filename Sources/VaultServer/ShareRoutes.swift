import Foundation
import Dispatch
import HTTPTypes
import Hummingbird
import VaultCore
import VaultCrypto

/// `GET /v1/share`, `GET /.well-known/jwks.json`, `GET /v1/notify-key`, `GET /livez`, `GET /readyz`.
struct ShareRoutes: Sendable {
    let endpoint: ShareEndpoint
    /// The readiness probe's SQLite read blocks; it runs here, off the cooperative thread pool.
    static let databaseQueue = DispatchQueue(label: "vrm.server.database", attributes: .concurrent)

    func register(on router: Router<VaultRequestContext>) {
        router.get("/v1/share") { request, context in try await share(request, context: context) }
        let service = endpoint.service
        router.get("/.well-known/jwks.json") { request, _ in
            let token = Self.bearerToken(request.headers[.authorization]).flatMap { try? GrantToken.parse($0) }
            guard let keySet = try await service.keySet(token: token) else { throw ProblemError(problem: .noKeySet) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Response(
                status: .ok, headers: [.contentType: "application/jwk-set+json", .cacheControl: "max-age=300"],
                body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(keySet))))
        }
        // The notification key, which signs webhook events (`Specs/requests.md` §5), apart from
        // the JWK Set: a JOSE library that looks a share's `kid` up there never finds it.
        router.get("/v1/notify-key") { request, _ in
            let token = Self.bearerToken(request.headers[.authorization]).flatMap { try? GrantToken.parse($0) }
            guard let key = try await service.notificationKey(token: token) else { throw ProblemError(problem: .noNotificationKey) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Response(
                status: .ok, headers: [.contentType: "application/jwk+json", .cacheControl: "max-age=300"],
                body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(key))))
        }
        router.get("/livez") { _, _ in jsonResponse("{\"status\":\"ok\"}") }
        router.get("/readyz") { _, _ in
            guard await service.isReady() else { throw ProblemError(problem: .notReady) }
            return jsonResponse("{\"status\":\"ready\"}")
        }
    }

    func share(_ request: Request, context: VaultRequestContext) async throws -> Response {
        let client = endpoint.client(
            peer: context.clientAddress, forwarded: ShareFields.forwardedName.flatMap { request.headers[$0] },
            forwardedFor: ShareFields.forwardedForName.flatMap { request.headers[$0] })
        let reply = await withUnsafeContinuation { (continuation: UnsafeContinuation<ShareEndpoint.Reply, Never>) in
            endpoint.begin(
                authorization: request.headers[.authorization], userAgent: request.headers[.userAgent],
                ifNoneMatch: request.headers[.ifNoneMatch], client: client
            ) { continuation.resume(returning: $0) }
        }
        return try endpoint.answer(reply, client: client).response
    }

    /// The token from `Authorization: Bearer <token>` (scheme case-insensitive); nil otherwise.
    static func bearerToken(_ header: String?) -> Substring? {
        // Scanned in place (no split, no lowercased copy unless the scheme is spelled oddly).
        guard let header else { return nil }
        let value = header.drop { $0 == " " }
        guard let space = value.firstIndex(of: " ") else { return nil }
        let scheme = value[..<space]
        guard scheme == "Bearer" || scheme.lowercased() == "bearer" else { return nil }
        let token = value[value.index(after: space)...].drop { $0 == " " }
        return token.isEmpty ? nil : token
    }

    static func offloadThrowing<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            databaseQueue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            databaseQueue.async { continuation.resume(returning: work()) }
        }
    }
}

func jsonResponse(_ body: String) -> Response {
    Response(
        status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
        body: .init(byteBuffer: ByteBuffer(string: body)))
}
