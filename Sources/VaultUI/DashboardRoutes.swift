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

        router.get("/exposure") { request, _ in
            try await show(.exposure, title: "Exposure") {
                let now = dashboard.clock()
                let grants = try vault.grants.list()
                let vendors = try vault.vendors.all()
                let cards = try vault.reports.vendorScorecards()
                let grid = ExposureGrid.build(
                    grants: grants, profileKeys: try vault.profile.all().map(\.key), vendors: vendors,
                    purchaseCounts: Dictionary(cards.map { ($0.vendorID, $0.purchases) }, uniquingKeysWith: +),
                    caseCounts: Dictionary(cards.map { ($0.vendorID, $0.openCases + $0.resolvedCases) }, uniquingKeysWith: +), now: now)
                return ExposureView.body(
                    grid: grid, grants: grants, vendorNames: Self.names(vendors), showEnded: request.uri.queryParameters["ended"] != "hide", now: now)
            }
        }
        router.get("/history") { request, _ in
            try await show(.history, title: "Share history") {
                let query = request.uri.queryParameters
                let vendors = try vault.vendors.all().map(\.name).sorted { $0.lowercased() < $1.lowercased() }
                func day(_ name: String) -> CalendarDate? { query[name[...]].flatMap { CalendarDate(String($0)) } }
                let vendor = query["vendor"].map(String.init).flatMap { vendors.contains($0) ? $0 : nil }
                let kind = query["kind"].map(String.init).flatMap { k in HistoryView.kinds.contains { $0.key == k } ? k : nil }
                let filter = HistoryView.Filter(vendor: vendor, kind: kind, since: day("since"), until: day("until"))
                let verification = Result { try vault.audit.verify().result }
                let entries = try vault.audit.entries(AuditFilter(vendorName: vendor))
                return HistoryView.body(entries: entries, filter: filter, vendors: vendors, verification: verification, now: dashboard.clock())
            }
        }
        router.get("/relationships") { _, _ in
            try await show(.relationships, title: "Relationships") {
                let now = dashboard.clock()
                let active = Dictionary(try vault.grants.list().filter { $0.state(at: now) == .active }.map { ($0.vendorID, 1) }, uniquingKeysWith: +)
                return RecordViews.relationships(
                    cards: try vault.reports.vendorScorecards(), activeGrants: active, spending: try vault.reports.spending(by: .month))
            }
        }
        router.get("/cases") { _, _ in
            try await show(.cases, title: "Cases") {
                RecordViews.cases(try vault.cases.list(), vendorNames: Self.names(try vault.vendors.all()), today: CalendarDate(dashboard.clock()))
            }
        }
        router.get("/requests") { _, _ in
            var note: String?
            do { try await dashboard.hooks.pull(vault) } catch { note = "The relay could not be reached; requests it holds are not shown yet (\(error))." }
            return try await show(.requests, title: "Requests") {
                (note.map { "<div class=\"flash problem\" role=\"alert\">\(HTML.text($0))</div>" } ?? "")
                    + DecisionViews.requests(try vault.requests.all(), now: dashboard.clock())
            }
        }

        // Actions: a confirmation page (GET), then the form's POST.
        router.get("/grants/:id/revoke") { request, context in
            let id = try Self.id(context)
            return try await show(nil, title: "Revoke a grant") {
                let grant = try vault.grants.grant(id: id)
                guard grant.state(at: dashboard.clock()) == .active else {
                    throw VaultError.conflict("grant \(id) is \(grant.state(at: dashboard.clock()).rawValue) already")
                }
                let vendor = Self.names(try vault.vendors.all())[grant.vendorID] ?? grant.vendorName ?? "(removed vendor)"
                return DecisionViews.revoke(
                    grant, vendor: vendor, action: request.uri.path, token: session.token(for: "POST " + request.uri.path), now: dashboard.clock())
            }
        }
        router.post("/grants/:id/revoke") { request, context in
            let id = try Self.id(context)
            return try await act(request, back: "/exposure") { _ in
                let g = try vault.grants.revoke(id: id)
                return ("Revoked grant \(g.id) (\(g.vendorName ?? "removed vendor")); its share was destroyed.", "/exposure#grants")
            }
        }
        router.get("/requests/:id/approve") { request, context in
            let id = try Self.id(context)
            return try await show(nil, title: "Approve a request") {
                let r = try pendingRequest(id)
                guard let body = r.body else { throw VaultError.conflict("request \(id) cannot be read; it can only be denied") }
                return DecisionViews.approve(r, body: body, action: request.uri.path, token: session.token(for: "POST " + request.uri.path))
            }
        }
        router.post("/requests/:id/approve") { request, context in
            let id = try Self.id(context)
            return try await act(request, back: "/requests") { form in
                let scopes = try form.all("scope").map(Scope.parse)
                guard !scopes.isEmpty else { throw VaultError.invalidInput("choose at least one of the scopes asked; to share nothing, deny the request") }
                let now = dashboard.clock()
                let expiresAt = try form.text("expires_days").map { text -> Date in
                    guard let days = Int(text), days >= 1, days <= 36_500 else { throw VaultError.invalidInput("the days must be a whole number from 1") }
                    return now.addingTimeInterval(Double(days) * 86_400)
                }
                let maxUses = try form.text("max_uses").map { text -> Int in
                    guard let uses = Int(text), uses >= 1 else { throw VaultError.invalidInput("the uses must be a whole number from 1") }
                    return uses
                }
                try? await dashboard.hooks.pull(vault)
                let (r, issued) = try vault.requests.approve(id: id, narrowing: RequestNarrowing(scopes: scopes, expiresAt: expiresAt, maxUses: maxUses))
                return (
                    "Approved \(r.id) from \(r.body?.vendor.name ?? "the vendor"): grant \(issued.grant.id) shares \(issued.grant.scopes.map(\.description).joined(separator: ", ")). The vendor fetches its sealed token from the endpoint.",
                    "/requests"
                )
            }
        }
        router.get("/requests/:id/deny") { request, context in
            let id = try Self.id(context)
            return try await show(nil, title: "Deny a request") {
                DecisionViews.deny(try pendingRequest(id), action: request.uri.path, token: session.token(for: "POST " + request.uri.path))
            }
        }
        router.post("/requests/:id/deny") { request, context in
            let id = try Self.id(context)
            return try await act(request, back: "/requests") { form in
                try? await dashboard.hooks.pull(vault)
                let r = try vault.requests.deny(id: id, reason: form.text("reason"))
                return ("Denied \(r.id)\(r.body.map { " from \($0.vendor.name)" } ?? "").", "/requests")
            }
        }
        router.get("/cases/:id/close") { request, context in
            let id = try Self.id(context)
            return try await show(nil, title: "Close a case") {
                let c = try vault.cases.supportCase(id: id)
                guard c.status.isOpen else { throw VaultError.conflict("case \(id) is \(c.status.rawValue) already") }
                let vendor = Self.names(try vault.vendors.all())[c.vendorID] ?? "(removed vendor)"
                return DecisionViews.close(c, vendor: vendor, action: request.uri.path, token: session.token(for: "POST " + request.uri.path))
            }
        }
        router.post("/cases/:id/close") { request, context in
            let id = try Self.id(context)
            return try await act(request, back: "/cases") { form in
                let c = try vault.cases.update(id: id, .close(note: form.text("note")))
                return ("Closed the case “\(c.subject)”.", "/cases")
            }
        }
        router.post("/stop") { request, _ in
            let form = try await FormBody.read(request)
            guard session.takeToken(form.first("token"), for: "POST /stop") else { return Self.tokenRefused() }
            session.requestStop()
            return Pages.html(Layout.bare(title: "Stopped", message: "The dashboard has stopped and the vault is locked again in it. You can close this tab."))
        }
    }

    /// The one-time link: its first use starts a session (a cookie) and leads to the grid.
    func entry(_ request: Request) -> Response {
        let cookie = DashboardGuard.cookie(named: dashboard.cookieName, in: request.headers)
        guard let presented = request.uri.queryParameters["k"] else { return Pages.redirect(to: "/exposure") }
        switch session.takeSecret(String(presented)) {
        case .accepted:
            let value = session.newSession()
            return Pages.redirect(to: "/exposure", cookie: "\(dashboard.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict")
        case .used where session.checkSession(cookie):
            return Pages.redirect(to: "/exposure")
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
    func show(_ view: Layout.View?, title: String, _ body: () async throws -> String) async throws -> Response {
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
        return Pages.html(page, status: status)
    }

    /// An action: the page token for this path, then `perform`, then the change pushed (to a
    /// linked relay) and a redirect to the page that tells the outcome.
    func act(_ request: Request, back: String, _ perform: (FormBody) async throws -> (message: String, next: String)) async throws -> Response {
        let form = try await FormBody.read(request)
        guard session.takeToken(form.first("token"), for: "POST " + request.uri.path) else { return Self.tokenRefused() }
        let outcome: (message: String, next: String)
        do {
            outcome = try await perform(form)
        } catch let error as VaultError {
            session.setFlash(error.description, problem: true)
            return Pages.redirect(to: back)
        }
        do {
            let note = try await dashboard.hooks.push(vault)
            session.setFlash(outcome.message + (note.map { " " + $0 } ?? ""))
        } catch {
            session.setFlash(
                outcome.message + " The relay could not be reached (\(error)); the change is saved here and queued — `vrm relay sync` sends it.", problem: true)
        }
        return Pages.redirect(to: outcome.next)
    }

    func pendingRequest(_ id: String) throws -> AccessRequest {
        let r = try vault.requests.request(id: id)
        guard r.status == .pending else { throw VaultError.conflict("request \(id) is \(r.status.rawValue) already") }
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
