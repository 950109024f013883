import Dispatch
import HTTPTypes
import Hummingbird
import VaultCore

/// What `GET /v1/share` answers, apart from the HTTP stack that carries it: both the router
/// (`ShareRoutes`) and the event-loop fast path (`ShareFastPath`) answer through this, so the
/// two cannot drift apart.
struct ShareEndpoint: Sendable {
    let commits: GroupCommitQueue
    let limiter: FailureRateLimiter

    /// How a redemption request ended before it became an HTTP answer.
    enum Reply: Sendable {
        case rateLimited(retryAfter: Int)
        case redeemed(Result<RedemptionOutcome, any Error>)
    }

    /// Starts one redemption. `reply` runs exactly once: at once on this thread when the client
    /// is rate-limited, otherwise on the group-commit writer's thread after the transaction that
    /// counted and audited the request has ended.
    func begin(authorization: String?, userAgent: String?, ifNoneMatch: String?, client: String,
               reply: @escaping @Sendable (Reply) -> Void) {
        if let wait = limiter.retryAfter(client: client) { return reply(.rateLimited(retryAfter: wait)) }
        let redemption = RedemptionRequest(
            token: ShareRoutes.bearerToken(authorization), client: client,
            userAgent: userAgent.map { String($0.prefix(200)) }, held: ETag.held(ifNoneMatch))
        commits.submit(redemption) { reply(.redeemed($0)) }
    }

    /// The HTTP answer for a reply; records failures for the rate limiter. Throws only when the
    /// vault could not be written (the caller answers 500; nothing was counted or released).
    func answer(_ reply: Reply, client: String) throws -> ShareAnswer {
        switch reply {
        case .rateLimited(let wait):
            return Problem.rateLimited.answer(extraHeaders: [.retryAfter: String(wait)])
        case .redeemed(let result):
            switch try result.get() {
            case .share(let body, let version, _):
                return ShareAnswer(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store",
                                                          .eTag: ETag.text(version: version)],
                                   body: ByteBuffer(bytes: body))
            case .notModified(let version):
                return ShareAnswer(status: .notModified, headers: [.cacheControl: "no-store", .eTag: ETag.text(version: version)], body: nil)
            case .invalidToken:
                limiter.recordFailure(client: client)
                return Problem.invalidToken.answer(extraHeaders: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
            case .denied(let state):
                limiter.recordFailure(client: client)
                return Problem.denial(state).answer()
            }
        }
    }
}

/// An answer's status, headers and body, before `Content-Length` and `Date` (added by the
/// HTTP layer: Hummingbird's, or the fast path's in the same order).
struct ShareAnswer: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    /// nil: no body and no `Content-Length` (304).
    let body: ByteBuffer?

    var response: Response {
        if let body { return Response(status: status, headers: headers, body: .init(byteBuffer: body)) }
        return Response(status: status, headers: headers)
    }
}

/// `GET /v1/share`, `GET /livez`, `GET /readyz`.
struct ShareRoutes: Sendable {
    let redeemer: Redeemer
    let endpoint: ShareEndpoint
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
        let reply = await withUnsafeContinuation { (continuation: UnsafeContinuation<ShareEndpoint.Reply, Never>) in
            endpoint.begin(authorization: request.headers[.authorization], userAgent: request.headers[.userAgent],
                           ifNoneMatch: request.headers[.ifNoneMatch], client: client) { continuation.resume(returning: $0) }
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
