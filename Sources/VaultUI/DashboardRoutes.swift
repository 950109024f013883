import Foundation
import HTTPTypes
import Hummingbird
import VaultCore

/// The dashboard's pages and actions. Every GET only reads; every change is a POST whose page
/// token was issued for exactly that path (`DashboardSession.takeToken`), answered by a
/// redirect to a page that says what happened.
struct DashboardRoutes {
    let dashboard: Dashboard
    var vault: Vault { dashboard.vault }
    var session: DashboardSession { dashboard.session }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in entry(request) }
        router.get("/assets/style.css") { _, _ in Pages.asset(Stylesheet.css, type: "text/css; charset=utf-8") }
        router.get("/assets/icon.svg") { _, _ in Pages.asset(Stylesheet.icon, type: "image/svg+xml") }
        router.get("/favicon.ico") { _, _ in Pages.redirect(to: "/assets/icon.svg") }

        // Everything else lives under the session's own path (the guard checks it).
        let router = router.group("s/:session")
        router.get("/") { request, _ in Pages.redirect(to: Self.base(request) + "exposure") }

        router.get("exposure") { request, _ in
            try await show(request, .exposure, title: "Exposure") {
                let now = dashboard.clock()
                let grants = try vault.grants.list()
                let vendors = try vault.vendors.all()
                let counts = try vault.reports.recordCounts()
                let grid = ExposureGrid.build(
                    grants: grants, profileKeys: try vault.profile.all().map(\.key), vendors: vendors,
                    purchaseCounts: counts.purchases, caseCounts: counts.cases, now: now)
                return ExposureView.body(
                    grid: grid, grants: grants, vendorNames: Self.names(vendors), showEnded: request.uri.queryParameters["ended"] != "hide", now: now)
            }
        }
        router.get("history") { request, _ in
            try await show(request, .history, title: "Share history") {
                let query = request.uri.queryParameters
                let vendors = try vault.vendors.all().map { (id: $0.id, name: $0.name) }.sorted { $0.name.lowercased() < $1.name.lowercased() }
                func day(_ name: String) -> CalendarDate? { query[name[...]].flatMap { CalendarDate(String($0)) } }
                let vendor = query["vendor"].map(String.init).flatMap { id in vendors.first { $0.id == id } }
                let kind = query["kind"].map(String.init).flatMap { k in HistoryView.kinds.contains { $0.key == k } ? k : nil }
                let filter = HistoryView.Filter(vendor: vendor?.id, kind: kind, since: day("since"), until: day("until"))
                let verification = Result { try vault.audit.verify().result }
                let entries = try vault.audit.entries(AuditFilter(vendorName: vendor?.name))
                return HistoryView.body(entries: entries, filter: filter, vendors: vendors, verification: verification)
            }
        }
        router.get("relationships") { request, _ in
            try await show(request, .relationships, title: "Relationships") {
                let now = dashboard.clock()
                let active = Dictionary(try vault.grants.list().filter { $0.state(at: now) == .active }.map { ($0.vendorID, 1) }, uniquingKeysWith: +)
                return RecordViews.relationships(
                    cards: try vault.reports.vendorScorecards(), activeGrants: active, spending: try vault.reports.spending(by: .month))
            }
        }
        router.get("cases") { request, _ in
            try await show(request, .cases, title: "Cases") {
                RecordViews.cases(try vault.cases.list(), vendorNames: Self.names(try vault.vendors.all()), today: CalendarDate(dashboard.clock()))
            }
        }
        router.get("requests") { request, _ in
            var note: String?
            do { note = try await dashboard.hooks.pull(vault) } catch { note = "The relay's requests could not be taken in (\(error))." }
            return try await show(request, .requests, title: "Requests") {
                (note.map { "<div class=\"flash problem\" role=\"alert\">\(HTML.text($0))</div>" } ?? "")
                    + DecisionViews.requests(try vault.requests.all())
            }
        }

        // Actions: a confirmation page (GET), then the form's POST.
        router.get("grants/:id/revoke") { request, context in
            let id = try Self.id(context)
            return try await show(request, nil, title: "Revoke a grant") {
                let grant = try vault.grants.grant(id: id)
                guard grant.state(at: dashboard.clock()) == .active else {
                    throw VaultError.conflict("grant \(id) is \(grant.state(at: dashboard.clock()).rawValue) already")
                }
                let vendor = Self.names(try vault.vendors.all())[grant.vendorID] ?? grant.vendorName ?? "(removed vendor)"
                return DecisionViews.revoke(
                    grant, vendor: vendor, action: Self.local(request), token: session.token(for: "POST " + Self.local(request)))
            }
        }
        router.post("grants/:id/revoke") { request, context in
            let id = try Self.id(context)
            return try await act(request, back: "/exposure") { _ in
                let g = try vault.grants.revoke(id: id)
                return ("Revoked grant \(g.id) (\(g.vendorName ?? "removed vendor")); its share was destroyed.", "/exposure#grants")
            }
        }
        router.get("requests/:id/approve") { request, context in
            let id = try Self.id(context)
            return try await show(request, nil, title: "Approve a request") {
                let r = try waitingRequest(id)
                guard let body = r.body else { throw VaultError.conflict("request \(id) cannot be read; it can only be denied") }
                return DecisionViews.approve(r, body: body, action: Self.local(request), token: session.token(for: "POST " + Self.local(request)))
            }
        }
        router.post("requests/:id/approve") { request, context in
            let id = try Self.id(context)
            return try await act(request, back: "/requests") { form in
                let scopes = try form.all("scope").map(Scope.parse)
                guard !scopes.isEmpty else { throw VaultError.invalidInput("choose at least one of the scopes asked; to share nothing, deny the request") }
                let now = dashboard.clock()
                let days = try form.text("expires_days").map { text -> Int in
                    guard let days = Int(text), days >= 1, days <= 36_500 else { throw VaultError.invalidInput("the days must be a whole number from 1") }
                    return days * 86_400
                }
                let hours = try form.text("expires_hours").map { text -> Int in
                    guard let hours = Int(text), hours >= 1, hours <= 876_000 else { throw VaultError.invalidInput("the hours must be a whole number from 1") }
                    return hours * 3600
                }
                let expiresAt = (days ?? hours).map { now.addingTimeInterval(Double($0)) }
                let maxUses = try form.text("max_uses").map { text -> Int in
                    guard let uses = Int(text), uses >= 1 else { throw VaultError.invalidInput("the uses must be a whole number from 1") }
                    return uses
                }
                _ = try? await dashboard.hooks.pull(vault)
                let (r, issued) = try vault.requests.approve(id: id, narrowing: RequestNarrowing(scopes: scopes, expiresAt: expiresAt, maxUses: maxUses))
                let unmatched = try vault.profile.unmatched(issued.grant.scopes).map(\.description)
                let note =
                    unmatched.isEmpty
                    ? ""
                    : " \(unmatched.joined(separator: ", ")) match\(unmatched.count == 1 ? "es" : "") no field of your profile yet: shared once you set one."
                return (
                    "Approved \(r.id) from \(r.body?.vendor.name ?? "the vendor"): grant \(issued.grant.id) shares \(issued.grant.scopes.map(\.description).joined(separator: ", ")). The vendor fetches its sealed token from the endpoint."
                        + note,
                    "/requests"
                )
            }
        }
        router.get("requests/:id/deny") { request, context in
            let id = try Self.id(context)
            return try await show(request, nil, title: "Deny a request") {
                DecisionViews.deny(
                    try waitingRequest(id, orUnreadable: true), action: Self.local(request), token: session.token(for: "POST " + Self.local(request)))
            }
        }
        router.post("requests/:id/deny") { request, context in
            let id = try Self.id(context)
            return try await act(request, back: "/requests") { form in
                _ = try? await dashboard.hooks.pull(vault)
                let r = try vault.requests.deny(id: id, reason: form.text("reason"))
                return ("Denied \(r.id)\(r.body.map { " from \($0.vendor.name)" } ?? "").", "/requests")
            }
        }
        router.get("cases/:id/close") { request, context in
            let id = try Self.id(context)
            return try await show(request, nil, title: "Close a case") {
                let c = try vault.cases.supportCase(id: id)
                guard c.status.isOpen else { throw VaultError.conflict("case \(id) is \(c.status.rawValue) already") }
                let vendor = Self.names(try vault.vendors.all())[c.vendorID] ?? "(removed vendor)"
                return DecisionViews.close(c, vendor: vendor, action: Self.local(request), token: session.token(for: "POST " + Self.local(request)))
            }
        }
        router.post("cases/:id/close") { request, context in
            let id = try Self.id(context)
            return try await act(request, back: "/cases") { form in
                let c = try vault.cases.update(id: id, .close(note: form.text("note")))
                return ("Closed the case “\(c.subject)”.", "/cases")
            }
        }
        router.post("stop") { request, _ in
            let form = try await FormBody.read(request)
            guard session.takeToken(form.first("token"), for: "POST /stop") else { return Self.tokenRefused() }
            session.requestStop()
            return Pages.html(Layout.bare(title: "Stopped", message: "The dashboard has stopped and the vault is locked again in it. You can close this tab."))
        }
    }

    /// The one-time link: its first use starts a session and leads to the grid under the
    /// session's path.
    func entry(_ request: Request) -> Response {
        guard let presented = request.uri.queryParameters["k"] else {
            return Pages.refusal(status: .forbidden, title: "Not signed in", message: "Open the link `vrm ui` printed, or run `vrm ui` again.")
        }
        switch session.takeSecret(String(presented)) {
        case .accepted:
            return Pages.redirect(to: "/s/\(session.newSession())/exposure")
        case .used:
            return Pages.refusal(
                status: .forbidden, title: "Link used",
                message: "This link has been used already (each link opens one browser session). Run `vrm ui` again for a new one.")
        case .wrong:
            return Pages.refusal(
                status: .forbidden, title: "Not signed in", message: "This link is not the one `vrm ui` printed. Run `vrm ui` again for a new one.")
        }
    }

    /// A page of the dashboard; a vault error becomes a page that says it.
    func show(_ request: Request, _ view: Layout.View?, title: String, _ body: () async throws -> String) async throws -> Response {
        let content: String
        var status = HTTPResponse.Status.ok
        do {
            content = try await body()
        } catch let error as VaultError {
            status = Self.status(of: error)
            content =
                "<h1>\(HTML.text(title))</h1><div class=\"flash problem\" role=\"alert\">\(HTML.text(error.description))</div><p><a href=\"/exposure\">Back to the dashboard</a></p>"
        }
        let pending = (try? vault.requests.all().filter { $0.status == .pending }.count) ?? 0
        let page = Layout.page(
            title: title, current: view, pendingRequests: pending, flash: session.takeFlash(), stopToken: session.token(for: "POST /stop"),
            idleMinutes: max(1, Int((dashboard.options.idleTimeout / 60).rounded())), body: content)
        return Pages.html(Self.scoped(page, base: Self.base(request)), status: status)
    }

    /// The session's base path, `/s/SESSION/`, from the request's path.
    static func base(_ request: Request) -> String {
        let parts = request.uri.path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count >= 3 ? "/s/\(parts[2].prefix { $0 != "/" })/" : "/"
    }

    /// The request's path within the session (`/grants/gr_x/revoke`): what page tokens are bound to.
    static func local(_ request: Request) -> String {
        let path = request.uri.path
        let base = base(request)
        return path.hasPrefix(base) ? "/" + path.dropFirst(base.count) : path
    }

    /// The page with its links and forms moved under the session's path. The pages write their
    /// own links as `href="/…"` and `action="/…"`; data never contains `"` unescaped, so these
    /// are only the page's own. The stylesheet and icon stay where they are.
    static func scoped(_ page: String, base: String) -> String {
        page.replacingOccurrences(of: "href=\"/", with: "href=\"" + base).replacingOccurrences(of: "action=\"/", with: "action=\"" + base)
            .replacingOccurrences(of: "\"" + base + "assets/", with: "\"/assets/")
    }

    /// An action: the page token for this path, then `perform`, then the change pushed (to a
    /// linked relay) and a redirect to the page that tells the outcome.
    func act(_ request: Request, back: String, _ perform: (FormBody) async throws -> (message: String, next: String)) async throws -> Response {
        let form = try await FormBody.read(request)
        guard session.takeToken(form.first("token"), for: "POST " + Self.local(request)) else { return Self.tokenRefused() }
        let outcome: (message: String, next: String)
        do {
            outcome = try await perform(form)
        } catch let error as VaultError {
            session.setFlash(error.description, problem: true)
            return Pages.redirect(to: Self.base(request) + back.dropFirst())
        }
        do {
            let note = try await dashboard.hooks.push(vault)
            session.setFlash(outcome.message + (note.map { " " + $0 } ?? ""))
        } catch {
            session.setFlash(
                outcome.message + " The relay could not be reached (\(error)); the change is saved here and queued — `vrm relay sync` sends it.", problem: true)
        }
        return Pages.redirect(to: Self.base(request) + outcome.next.dropFirst())
    }

    /// A request still waiting for a decision (an unreadable one only when it is to be denied).
    func waitingRequest(_ id: String, orUnreadable: Bool = false) throws -> AccessRequest {
        let r = try vault.requests.request(id: id)
        guard r.status == .pending || (orUnreadable && r.status == .unreadable) else {
            throw VaultError.conflict("request \(id) is \(r.status.rawValue) already")
        }
        return r
    }

    static func tokenRefused() -> Response {
        Pages.refusal(
            status: .forbidden, title: "Refused",
            message: "This form's token is missing, used or not for this action, so nothing was done. Go back, reload the page and try again.")
    }

    /// The `:id` of the route: letters, digits, `_` and `-`, at most 64.
    static func id(_ context: BasicRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), (1...64).contains(id.count),
            id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-") })
        else { throw HTTPError(.notFound, message: "There is no such record.") }
        return id
    }

    static func names(_ vendors: [Vendor]) -> [String: String] {
        Dictionary(vendors.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
    }

    static func status(of error: VaultError) -> HTTPResponse.Status {
        switch error {
        case .notFound: .notFound
        case .invalidInput, .invalidField: .badRequest
        case .conflict: .conflict
        default: .internalServerError
        }
    }
}
