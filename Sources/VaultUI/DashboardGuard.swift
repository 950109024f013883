import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// In front of every route (Specs/dashboard.md §2):
/// 1. the Host header must name this server (`127.0.0.1:PORT`): a page from a rebound DNS name
///    is refused (421) before anything else;
/// 2. a request must be for a path under its session, `/s/SESSION/…`, except the one-time link
///    itself and the stylesheet and icon (403 otherwise): the session is a capability in the
///    path, not a cookie, because browsers send a host's cookies to all of its ports;
/// 3. a POST must come from this origin (`Origin`, or `Sec-Fetch-Site: same-origin` when a
///    browser sends no Origin) — the page token is then checked by the route itself;
/// and every answer, refusals included, carries the security headers: a Content-Security-Policy
/// that allows this origin's stylesheet and images and nothing else (no script at all),
/// `Cache-Control: no-store`, referrers only to this origin, no framing.
struct DashboardGuard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let dashboard: Dashboard

    static let securityHeaders: [(HTTPField.Name, String)] = [
        (
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "same-origin"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ].compactMap { name, value in HTTPField.Name(name).map { ($0, value) } }

    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await check(request, context: context, next: next)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "There is no such page here." : "The request could not be answered.")
            response = Pages.refusal(status: error.status, title: error.status.reasonPhrase, message: message)
        } catch {
            response = Pages.refusal(status: .internalServerError, title: "Something went wrong", message: "\(error)")
        }
        for (name, value) in Self.securityHeaders { response.headers[name] = value }
        return response
    }

    private func check(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let host = dashboard.host, let origin = dashboard.origin else {
            return Pages.refusal(status: .serviceUnavailable, title: "Starting", message: "The dashboard is still starting.")
        }
        guard request.head.authority == host else {
            return Pages.refusal(
                status: .misdirectedRequest, title: "Wrong address",
                message: "This dashboard answers only at http://\(host)/ (a request for another host name is refused against DNS rebinding).")
        }
        let path = request.uri.path
        guard request.method == .get || request.method == .post else {
            return Pages.refusal(status: .methodNotAllowed, title: "Not allowed", message: "Only GET and POST are answered.")
        }
        if path == "/assets/style.css" || path == "/assets/icon.svg" || path == "/favicon.ico" { return try await next(request, context) }
        if request.method == .get, path == "/", request.uri.queryParameters["k"] != nil { return try await next(request, context) }
        guard dashboard.session.checkSession(Self.session(in: path)) else {
            return Pages.refusal(
                status: .forbidden, title: "Not signed in",
                message: "Open the link `vrm ui` printed (each link works once), or run `vrm ui` again.")
        }
        if request.method == .post {
            // A browser names the origin; where it sends none (or "null"), Sec-Fetch-Site, which
            // no page can set, must say same-origin.
            let sent = request.headers[.origin]
            let fetchSite = Self.fetchSite.flatMap { request.headers[$0] }
            let sameOrigin = sent == origin || ((sent == nil || sent == "null") && fetchSite == "same-origin")
            guard sameOrigin else {
                return Pages.refusal(status: .forbidden, title: "Refused", message: "An action must come from the dashboard's own pages.")
            }
        }
        return try await next(request, context)
    }

    /// The session in a path `/s/SESSION/…`, or nil.
    static func session(in path: String) -> String? {
        let parts = path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, parts[1] == "s" else { return nil }
        return String(parts[2].prefix { $0 != "/" })
    }
}
