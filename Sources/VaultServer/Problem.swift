import Foundation
public import HTTPTypes
public import Hummingbird
import VaultCore

/// The RFC 9457 problem types this server answers with. `Specs/openapi.yaml` lists them.
public enum Problem: String, Sendable, CaseIterable {
    case invalidToken = "invalid-token"
    case revoked
    case expired
    case usedUp = "used-up"
    case rateLimited = "rate-limited"
    case malformedRequest = "malformed-request"
    case requestTooLarge = "request-too-large"
    case headersTooLarge = "headers-too-large"
    case notFound = "not-found"
    case methodNotAllowed = "method-not-allowed"
    case notReady = "not-ready"
    case internalError = "internal-error"
    /// `GET /.well-known/jwks.json` on a relay, without a token it knows.
    case noKeySet = "no-key-set"
    /// Relay control requests (`Specs/relay.md`): a missing, malformed, stale or wrong signature.
    case badSignature = "bad-signature"
    /// A signed request whose nonce was used before.
    case replayed
    /// Enrolment with an unknown, used or expired invite code.
    case invalidInvite = "invalid-invite"
    /// A body that is not the JSON the request takes.
    case invalidBody = "invalid-body"
    /// A vault the relay does not hold (never enrolled, or unlinked).
    case unknownVault = "unknown-vault"
    /// The vault is enrolled already.
    case alreadyEnrolled = "already-enrolled"
    /// `POST /v1/requests` with an unknown, used or expired request code.
    case invalidRequestCode = "invalid-request-code"
    /// `GET /v1/requests/{id}` for an id the endpoint does not hold.
    case unknownRequest = "unknown-request"
    /// `GET /v1/notify-key`: the vault has no notification key (or, at a relay, no token names it).
    case noNotificationKey = "no-notification-key"

    /// The problem `type` URI.
    public var type: String { "urn:vrm-vault:problem:\(rawValue)" }

    public var status: HTTPResponse.Status {
        switch self {
        case .invalidToken: .unauthorized
        case .revoked, .expired, .usedUp: .forbidden
        case .rateLimited: .tooManyRequests
        case .malformedRequest: .badRequest
        case .requestTooLarge: .contentTooLarge
        case .headersTooLarge: .init(code: 431, reasonPhrase: "Request Header Fields Too Large")
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .notReady: .serviceUnavailable
        case .internalError: .internalServerError
        case .noKeySet, .unknownVault: .notFound
        case .badSignature, .replayed: .unauthorized
        case .invalidInvite: .forbidden
        case .invalidBody: .badRequest
        case .alreadyEnrolled: .conflict
        case .invalidRequestCode: .forbidden
        case .unknownRequest, .noNotificationKey: .notFound
        }
    }

    public var title: String {
        switch self {
        case .invalidToken: "The token is missing, malformed or not valid."
        case .revoked: "The grant was revoked by the customer. Stop using and delete the shared data."
        case .expired: "The grant has expired. Stop using and delete the shared data."
        case .usedUp: "The grant's use limit is reached."
        case .rateLimited: "Too many failed attempts from this client. Retry later."
        case .malformedRequest: "The request is not well-formed HTTP/1.1 (its framing or transfer coding)."
        case .requestTooLarge: "The request body is larger than this server accepts."
        case .headersTooLarge: "The request headers are larger than this server accepts."
        case .notFound: "No such resource."
        case .methodNotAllowed: "This method is not allowed on this resource."
        case .notReady: "The vault database is not available."
        case .internalError: "The server failed to answer. Nothing was released."
        case .noKeySet: "Name the vault: present the grant's token."
        case .badSignature: "The request's VRM-Signature is missing, malformed, too old or does not verify."
        case .replayed: "This signed request was seen before."
        case .invalidInvite: "The invite code is unknown, used or expired."
        case .invalidBody: "The request body is not what this request takes: a member is missing, malformed, larger than its limit, or does not verify."
        case .unknownVault: "This relay holds no such vault."
        case .alreadyEnrolled: "This vault is enrolled on this relay already."
        case .invalidRequestCode: "The request code is unknown, used or expired. Ask the customer for a new request link."
        case .unknownRequest: "No access request with this id."
        case .noNotificationKey: "No notification key: the vault has none yet, or (at a relay) no grant's token names the vault."
        }
    }

    /// The 403 problem for a grant state.
    static func denial(_ state: GrantState) -> Problem {
        switch state {
        case .revoked: .revoked
        case .expired: .expired
        case .usedUp, .active: .usedUp
        }
    }

    /// The problem+json body.
    var body: String { "{\"status\":\(status.code),\"title\":\"\(title)\",\"type\":\"\(type)\"}" }

    /// The problem+json answer, with any extra headers, for either server path.
    func answer(extraHeaders: HTTPFields = [:]) -> ShareAnswer {
        var headers = extraHeaders
        headers[.contentType] = "application/problem+json"
        headers[.cacheControl] = "no-store"
        return ShareAnswer(status: status, headers: headers, body: ByteBuffer(string: body))
    }

    /// The problem+json response, with any extra headers.
    public func response(extraHeaders: HTTPFields = [:]) -> Response {
        answer(extraHeaders: extraHeaders).response
    }
}

/// Thrown inside the router to answer with a problem.
public struct ProblemError: Error, HTTPResponseError {
    public let problem: Problem
    public var extraHeaders: HTTPFields = [:]

    public init(problem: Problem, extraHeaders: HTTPFields = [:]) {
        self.problem = problem
        self.extraHeaders = extraHeaders
    }

    public var status: HTTPResponse.Status { problem.status }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        problem.response(extraHeaders: extraHeaders)
    }
}
