import Foundation
public import HTTPTypes
import Hummingbird
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
    func response(extraHeaders: HTTPFields = [:]) -> Response {
        answer(extraHeaders: extraHeaders).response
    }
}

/// Thrown inside the router to answer with a problem.
struct ProblemError: Error, HTTPResponseError {
    let problem: Problem
    var extraHeaders: HTTPFields = [:]

    var status: HTTPResponse.Status { problem.status }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        problem.response(extraHeaders: extraHeaders)
    }
}
