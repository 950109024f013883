import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import VaultCore

/// The paths the server serves, each with the one method GET.
enum Routes {
    static let known: Set<String> = ["/v1/share", "/.well-known/jwks.json", "/v1/notify-key", "/livez", "/readyz"]

    /// `/v1/share/` and `//v1/share` route like `/v1/share`; so must the 405 check.
    static func normalised(_ path: Substring) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    /// What the access log shows of a request's target: the route it matched, or `(other)`.
    /// Nothing else from the path or the query is written: a careless client might put a
    /// token there.
    static func logged(_ path: String) -> String {
        let bare = path[..<(path.firstIndex(of: "?") ?? path.endIndex)]
        let route = normalised(bare)
        if known.contains(route) || route == requests { return route }
        if route.hasPrefix(requests + "/"), route.split(separator: "/").count == 3 { return requests + "/{id}" }
        // The relay's control routes, with the vault id left out.
        let parts = route.split(separator: "/")
        if parts.count >= 3, parts[0] == "v1", parts[1] == "relay", parts[2] == "vaults" {
            let rest = parts.dropFirst(4).filter { control.contains(String($0)) }
            guard rest.count == max(0, parts.count - 4) else { return "(other)" }
            return "/v1/relay/vaults" + (parts.count > 3 ? "/{vault}" : "") + rest.map { "/" + $0 }.joined()
        }
        return "(other)"
    }

    /// The relay's control routes (`Specs/relay.md`) take a body, up to
    /// `ServerLimits.maxControlBodyBytes`; their path segments after the vault id.
    static let controlPrefix = "/v1/relay/"
    static let control: Set<String> = ["grants", "history", "ack", "keys", "requests", "links", "notify", "webhooks"]

    /// Access requests (`Specs/requests.md`): `POST` takes a body of up to
    /// `RequestLimits.maxBodyBytes`, read by the route.
    static let requests = "/v1/requests"
}

/// Wraps the router: enforces size bounds, answers every error as problem+json, and writes the
/// access log line — for matched and unmatched routes alike.
struct EdgeResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == VaultRequestContext {
    typealias Context = VaultRequestContext

    let inner: Inner
    let accessLog: AccessLog
    let proxies: TrustedProxies
    /// Whether the relay's control routes (`Routes.controlPrefix`) are served: their bodies are
    /// bounded by `ServerLimits.maxControlBodyBytes` and read by the route.
    var controlRoutes = false

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let response = await answer(request, context: context)
        let bytes: Int? = response.body.contentLength
        accessLog.record(
            method: request.method.rawValue, path: request.uri.path, status: Int(response.status.code), started: started,
            client: proxies.client(
                peer: context.clientAddress, forwarded: ShareFields.forwardedName.flatMap { request.headers[$0] },
                forwardedFor: ShareFields.forwardedForName.flatMap { request.headers[$0] }),
            userAgent: request.headers[.userAgent], bytes: bytes)
        return response
    }

    private func answer(_ request: Request, context: Context) async -> Response {
        if ServerLimits.headerBytes(request.headers) > ServerLimits.maxHeaderBytes {
            return Problem.headersTooLarge.response(extraHeaders: [.connection: "close"])
        }
        // No route takes a body; a transfer coding other than plain chunked is refused outright.
        if let coding = request.headers[.transferEncoding], coding.lowercased() != "chunked" {
            return Problem.malformedRequest.response(extraHeaders: [.connection: "close"])
        }
        let control = controlRoutes && request.uri.path.hasPrefix(Routes.controlPrefix)
        let route = Routes.normalised(request.uri.path[...])
        let asking = request.method == .post && route == Routes.requests
        let limit = control ? ServerLimits.maxControlBodyBytes : asking ? RequestLimits.maxBodyBytes : ServerLimits.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            return Problem.requestTooLarge.response(extraHeaders: [.connection: "close"])
        }
        if request.method != .get, Routes.known.contains(route) {
            return Problem.methodNotAllowed.response(extraHeaders: [.allow: "GET"])
        }
        if route == Routes.requests, request.method != .post {
            return Problem.methodNotAllowed.response(extraHeaders: [.allow: "POST"])
        }
        if request.method != .get, route.hasPrefix(Routes.requests + "/"), route.split(separator: "/").count == 3 {
            return Problem.methodNotAllowed.response(extraHeaders: [.allow: "GET"])
        }
        do {
            // No route takes a body; one sent anyway (chunked too) is bounded here. A request
            // with neither header has no body, and skips the extra await.
            if !control, !asking, request.headers[.contentLength] != nil || request.headers[.transferEncoding] != nil {
                _ = try await request.body.collect(upTo: ServerLimits.maxBodyBytes)
            }
            let response = try await inner.respond(to: request, context: context)
            // The router answers unmatched paths with a bare 404; give it the problem body too.
            if response.status == .notFound, response.headers[.contentType] == nil { return Problem.notFound.response() }
            return response
        } catch is HTTPParserError {
            // Bad framing (an unknown transfer coding, a chunk size out of range): the client's
            // error, answered 400 and logged as one, not as the server's failure.
            context.logger.debug("malformed request", metadata: ["error": "HTTPParserError"])
            return Problem.malformedRequest.response(extraHeaders: [.connection: "close"])
        } catch let error as ProblemError {
            return error.problem.response(extraHeaders: error.extraHeaders)
        } catch let error as any HTTPResponseError {
            switch error.status {
            case .notFound: return Problem.notFound.response()
            case .contentTooLarge: return Problem.requestTooLarge.response(extraHeaders: [.connection: "close"])
            case .methodNotAllowed: return Problem.methodNotAllowed.response(extraHeaders: [.allow: "GET"])
            default: return Problem.requestFailed(error, logger: context.logger).response
            }
        } catch {
            return Problem.requestFailed(error, logger: context.logger).response
        }
    }
}
