import Dispatch
import HTTPTypes
import Hummingbird
import VaultCore

/// `GET /v1/share`, `GET /livez`, `GET /readyz`.
struct ShareRoutes: Sendable {
    let redeemer: Redeemer
    let commits: GroupCommitQueue
    let limiter: FailureRateLimiter
    /// The readiness probe's SQLite read blocks; it runs here, off the cooperative thread pool.
    static let databaseQueue = DispatchQueue(label: "vrm.server.database", attributes: .concurrent)

    func register(on router: Router<VaultRequestContext>) {
        router.get("/v1/share") { request, context in try await share(request, context: context) }
        router.get("/livez") { _, _ in jsonResponse("{\"status\":\"ok\"}") }
        router.get("/readyz") { _, _ in
            let ready = await Self.offload { redeemer.isReady() }
            guard ready else { throw ProblemError(problem: .notReady) }
            return jsonResponse("{\"status\":\"ready\"}")
        }
    }

    func share(_ request: Request, context: VaultRequestContext) async throws -> Response {
        let client = context.clientAddress
        if let wait = limiter.retryAfter(client: client) {
            throw ProblemError(problem: .rateLimited, extraHeaders: [.retryAfter: String(wait)])
        }
        let redemption = RedemptionRequest(
            token: Self.bearerToken(request.headers[.authorization]), client: client,
            userAgent: request.headers[.userAgent].map { String($0.prefix(200)) }, ifNoneMatch: request.headers[.ifNoneMatch])
        let outcome = try await commits.redeem(redemption)
        switch outcome {
        case .share(let body, let version, _):
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .cacheControl: "no-store", .eTag: Redeemer.etag(version: version)],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        case .notModified(let version):
            return Response(status: .notModified, headers: [.cacheControl: "no-store", .eTag: Redeemer.etag(version: version)])
        case .invalidToken:
            limiter.recordFailure(client: client)
            throw ProblemError(problem: .invalidToken, extraHeaders: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
        case .denied(let state):
            limiter.recordFailure(client: client)
            throw ProblemError(problem: Problem.denial(state))
        }
    }

    /// The token from `Authorization: Bearer <token>` (scheme case-insensitive); nil otherwise.
    static func bearerToken(_ header: String?) -> Substring? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0] == "Bearer" || parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].drop { $0 == " " }
    }

    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            databaseQueue.async { continuation.resume(returning: work()) }
        }
    }
}

func jsonResponse(_ body: String) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
             body: .init(byteBuffer: ByteBuffer(string: body)))
}
