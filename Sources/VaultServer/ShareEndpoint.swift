import HTTPTypes
import Hummingbird
import VaultCore

/// What `GET /v1/share` answers, apart from the HTTP stack that carries it: both the router
/// (`ShareRoutes`) and the event-loop fast path (`ShareFastPath`) answer through this, so the
/// two cannot drift apart.
struct ShareEndpoint: Sendable {
    let service: any ShareService
    let limiter: FailureRateLimiter
    /// Whose `Forwarded`/`X-Forwarded-For` names the client.
    let proxies: TrustedProxies

    func client(peer: String, forwarded: String?, forwardedFor: String?) -> String {
        proxies.client(peer: peer, forwarded: forwarded, forwardedFor: forwardedFor)
    }

    /// How a redemption request ended before it became an HTTP answer.
    enum Reply: Sendable {
        case rateLimited(retryAfter: Int)
        case redeemed(Result<RedemptionOutcome, any Error>, admission: FailureRateLimiter.Admission)
    }

    /// Starts one redemption. `reply` runs exactly once, on the group-commit writer's thread
    /// after the transaction that counted and audited the request has ended (or on this thread
    /// for a request with no token from a client over its failure limit). A client over the
    /// limit is answered only if its token is genuine (`RedemptionRequest.limited`).
    func begin(
        authorization: String?, userAgent: String?, ifNoneMatch: String?, client: String,
        reply: @escaping @Sendable (Reply) -> Void
    ) {
        let admission = limiter.reserve(client: client)
        var redemption = RedemptionRequest(
            token: ShareRoutes.bearerToken(authorization), client: client,
            userAgent: userAgent.map { String($0.prefix(200)) }, held: ETag.held(ifNoneMatch))
        if case .limited(let wait) = admission {
            guard redemption.token != nil else { return reply(.rateLimited(retryAfter: wait)) }
            redemption.limited = true
        }
        service.submit(redemption) { reply(.redeemed($0, admission: admission)) }
    }

    /// The HTTP answer for a reply; records failures for the rate limiter. Throws only when the
    /// vault could not be written (the caller answers 500; nothing was counted or released).
    func answer(_ reply: Reply, client: String) throws -> ShareAnswer {
        switch reply {
        case .rateLimited(let wait):
            return Problem.rateLimited.answer(extraHeaders: [.retryAfter: String(wait)])
        case .redeemed(let result, let admission):
            let outcome: RedemptionOutcome
            do {
                outcome = try result.get()
            } catch {
                limiter.settle(admission, failed: false)
                throw error
            }
            switch outcome {
            case .invalidToken, .denied: limiter.settle(admission, failed: true)
            default: limiter.settle(admission, failed: false)
            }
            switch outcome {
            case .share(let body, let version, let binding):
                return ShareAnswer(
                    status: .ok,
                    headers: [
                        // A bearer share is the JWS itself (RFC 7515 §9.2.1); a key-bound one the
                        // sealed envelope around it.
                        .contentType: binding == .bearer ? "application/jose+json" : "application/json", .cacheControl: "no-store",
                        .eTag: ETag.text(version: version),
                    ],
                    body: ByteBuffer(bytes: body))
            case .notModified(let version):
                return ShareAnswer(status: .notModified, headers: [.cacheControl: "no-store", .eTag: ETag.text(version: version)], body: nil)
            case .invalidToken:
                return Problem.invalidToken.answer(extraHeaders: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
            case .denied(let state):
                return Problem.denial(state).answer()
            case .rateLimited:
                return Problem.rateLimited.answer(extraHeaders: [.retryAfter: String(limiter.retryAfter(client: client))])
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
