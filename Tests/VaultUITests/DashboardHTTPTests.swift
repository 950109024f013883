import Foundation
import Testing
import VaultCore
import VaultTestSupport
import VaultUI

/// The dashboard's guard, spoken to byte for byte: hosts, origins, the link, the session and
/// the page tokens — what a browser would never send is exactly what an attacker sends.
@Suite struct DashboardHTTPTests {
    /// Signs in with the link; the session cookie.
    static func signIn(_ running: DashboardFixture.Running) async throws -> String {
        let target = String(running.link.dropFirst(running.origin.count))
        let reply = try await blocking { try RawHTTP.send(port: running.port, target: target, headers: [("Host", running.host)]) }
        #expect(reply.status == 303 && reply.headers["location"] == "/exposure")
        let cookie = try #require(reply.headers["set-cookie"])
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
        return String(cookie.prefix { $0 != ";" })
    }

    static func get(_ running: DashboardFixture.Running, _ target: String, cookie: String?, host: String? = nil) async throws -> RawHTTP.Reply {
        var headers = [("Host", host ?? running.host)]
        if let cookie { headers.append(("Cookie", cookie)) }
        return try await blocking { [headers] in try RawHTTP.send(port: running.port, target: target, headers: headers) }
    }

    static func post(_ running: DashboardFixture.Running, _ target: String, cookie: String?, origin: String?, form: String) async throws -> RawHTTP.Reply {
        var headers = [("Host", running.host), ("Content-Type", "application/x-www-form-urlencoded")]
        if let cookie { headers.append(("Cookie", cookie)) }
        if let origin { headers.append(("Origin", origin)) }
        return try await blocking { [headers] in
            try RawHTTP.send(port: running.port, method: "POST", target: target, headers: headers, body: form)
        }
    }

    /// The page token of the form whose action is `action` in `html`.
    static func token(in html: String, action: String) throws -> String {
        let form = try #require(html.range(of: "action=\"\(action)\""))
        let rest = html[form.upperBound...]
        let start = try #require(rest.range(of: "name=\"token\" value=\""))
        return String(rest[start.upperBound...].prefix { $0 != "\"" })
    }

    @Test func everyAnswerCarriesTheSecurityHeadersAndOtherHostsAreRefused() async throws {
        let f = try DashboardFixture()
        let running = try await f.start()
        defer { running.task.cancel() }
        let cookie = try await Self.signIn(running)
        for target in ["/exposure", "/history", "/relationships", "/cases", "/requests", "/nowhere", "/assets/style.css"] {
            let reply = try await Self.get(running, target, cookie: cookie)
            #expect(reply.status == (target == "/nowhere" ? 404 : 200), "\(target)")
            let csp = try #require(reply.headers["content-security-policy"])
            #expect(csp.contains("default-src 'none'") && csp.contains("style-src 'self'") && !csp.contains("script-src"))
            #expect(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"))
            #expect(reply.headers["cache-control"] == "no-store")
            #expect(reply.headers["referrer-policy"] == "same-origin")
            #expect(!reply.body.contains("<script"), "\(target) has a script")
            #expect(!reply.body.contains("http://") || target == "/nowhere" || !reply.body.contains("src=\"http"), "\(target) loads from elsewhere")
        }
        // DNS rebinding: the same socket, another name.
        for host in ["evil.example", "evil.example:\(running.port)", "localhost:\(running.port)", "127.0.0.1", "127.0.0.1:1"] {
            let reply = try await Self.get(running, "/exposure", cookie: cookie, host: host)
            #expect(reply.status == 421, "\(host)")
            #expect(!reply.body.contains("Acme"))
            #expect(reply.headers["cache-control"] == "no-store")
        }
        // The link itself from another host does not sign in either.
        let target = String(running.link.dropFirst(running.origin.count))
        #expect(try await Self.get(running, target, cookie: nil, host: "rebound.example:\(running.port)").status == 421)
    }

    @Test func theLinkWorksOnceAndNothingIsShownWithoutItsSession() async throws {
        let f = try DashboardFixture()
        let running = try await f.start()
        defer { running.task.cancel() }
        // No session: every page is refused, and shows nothing of the vault.
        for target in ["/exposure", "/history", "/requests", "/grants/\(f.acme.id)/revoke", "/?k=wrong", "/?k="] {
            let reply = try await Self.get(running, target, cookie: nil)
            #expect(reply.status == 403, "\(target)")
            #expect(!reply.body.contains("Acme") && !reply.body.contains(f.acme.id), "\(target)")
        }
        #expect(try await Self.get(running, "/exposure", cookie: "\(running.cookieName)=forged").status == 403)
        let cookie = try await Self.signIn(running)
        #expect(try await Self.get(running, "/exposure", cookie: cookie).status == 200)
        // The second use of the link is refused; with the session it just leads on.
        let target = String(running.link.dropFirst(running.origin.count))
        let again = try await Self.get(running, target, cookie: nil)
        #expect(again.status == 403 && again.body.contains("used already") && again.headers["set-cookie"] == nil)
        #expect(try await Self.get(running, target, cookie: cookie).status == 303)
    }

    @Test func aRevokeNeedsThisOriginAndThePageTokenForIt() async throws {
        let f = try DashboardFixture()
        let running = try await f.start()
        defer { running.task.cancel() }
        let cookie = try await Self.signIn(running)
        let path = "/grants/\(f.acme.id)/revoke"
        let page = try await Self.get(running, path, cookie: cookie)
        #expect(page.status == 200 && page.body.contains("Revoke the grant"))
        let token = try Self.token(in: page.body, action: path)
        let stopToken = try Self.token(in: page.body, action: "/stop")
        func active() throws -> Bool { try f.vault.grants.grant(id: f.acme.id).state(at: Date()) == .active }

        // Without the token, with a wrong one, or with another form's token: refused.
        for form in ["", "token=", "token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "token=\(stopToken)"] {
            let reply = try await Self.post(running, path, cookie: cookie, origin: running.origin, form: form)
            #expect(reply.status == 403, "\(form)")
            #expect(try active())
        }
        // Another origin (a page on another port of this machine is same-site, not same-origin),
        // or none at all: refused, and the token is not spent.
        for origin in ["http://127.0.0.1:\(running.port + 1)", "http://evil.example", "null"] {
            let reply = try await Self.post(running, path, cookie: cookie, origin: origin, form: "token=\(token)")
            #expect(reply.status == 403, "\(origin)")
            #expect(try active())
        }
        #expect(try await Self.post(running, path, cookie: cookie, origin: nil, form: "token=\(token)").status == 403)
        // Without the session cookie: refused.
        #expect(try await Self.post(running, path, cookie: nil, origin: running.origin, form: "token=\(token)").status == 403)
        #expect(try active())
        // The page's token, from this origin: done, and the grid says so.
        let done = try await Self.post(running, path, cookie: cookie, origin: running.origin, form: "token=\(token)")
        #expect(done.status == 303)
        #expect(try f.vault.grants.grant(id: f.acme.id).revokedAt != nil)
        let after = try await Self.get(running, "/exposure", cookie: cookie)
        #expect(after.body.contains("Revoked grant \(f.acme.id)"))
        #expect(after.body.contains("data-grant=\"\(f.acme.id)\" data-state=\"revoked\""))
        // A token is good once.
        #expect(try await Self.post(running, path, cookie: cookie, origin: running.origin, form: "token=\(token)").status == 403)
    }

    @Test func aRequestIsApprovedNarrowerAnotherDeniedAndACaseClosed() async throws {
        let f = try DashboardFixture()
        let running = try await f.start()
        defer { running.task.cancel() }
        let cookie = try await Self.signIn(running)
        let list = try await Self.get(running, "/requests", cookie: cookie)
        #expect(list.body.contains("data-request=\"\(f.requestID)\"") && list.body.contains("Cobalt Shop"))
        #expect(list.body.contains("Requests (1 pending)"))

        let path = "/requests/\(f.requestID)/approve"
        let confirm = try await Self.get(running, path, cookie: cookie)
        #expect(confirm.body.contains("value=\"profile.email\"") && confirm.body.contains("value=\"profile.phone\""))
        // Widening is refused by the vault, whatever the form says.
        let wide = try await Self.post(
            running, path, cookie: cookie, origin: running.origin, form: "token=\(try Self.token(in: confirm.body, action: path))&scope=profile")
        #expect(wide.status == 303)
        #expect(try f.vault.requests.request(id: f.requestID).status == .pending)
        let confirmAgain = try await Self.get(running, path, cookie: cookie)
        #expect(confirmAgain.body.contains("flash problem"))
        let approved = try await Self.post(
            running, path, cookie: cookie, origin: running.origin,
            form: "token=\(try Self.token(in: confirmAgain.body, action: path))&scope=profile.email&expires_days=&max_uses=2")
        #expect(approved.status == 303)
        let decided = try f.vault.requests.request(id: f.requestID)
        #expect(decided.status == .approved)
        let grant = try f.vault.grants.grant(id: try #require(decided.grantID))
        #expect(grant.scopes == [.profileField("email")] && grant.maxUses == 2 && grant.binding == .key)

        // Closing a case.
        let casePath = "/cases/\(f.overdueCase.id)/close"
        let cases = try await Self.get(running, "/cases", cookie: cookie)
        // Overdue first.
        let overdueAt = try #require(cases.body.range(of: f.overdueCase.id)).lowerBound
        let laterAt = try #require(cases.body.range(of: f.laterCase.id)).lowerBound
        #expect(overdueAt < laterAt && cases.body.contains("overdue by 3 days"))
        let closePage = try await Self.get(running, casePath, cookie: cookie)
        let closed = try await Self.post(
            running, casePath, cookie: cookie, origin: running.origin, form: "token=\(try Self.token(in: closePage.body, action: casePath))&note=fixed+at+last")
        #expect(closed.status == 303)
        #expect(try f.vault.cases.supportCase(id: f.overdueCase.id).status == .closed)
        // Its confirmation page is gone now; so is the approve page of a decided request.
        #expect(try await Self.get(running, casePath, cookie: cookie).status == 409)
        #expect(try await Self.get(running, path, cookie: cookie).status == 409)
        #expect(try await Self.get(running, "/grants/gr_nosuchgrant0000/revoke", cookie: cookie).status == 404)
        #expect(try await Self.get(running, "/grants/..%2F..%2Fetc/revoke", cookie: cookie).status == 404)
    }

    @Test func aDenialWithAReasonAndHostileTextIsShownInert() async throws {
        let f = try DashboardFixture()
        let running = try await f.start()
        defer { running.task.cancel() }
        let cookie = try await Self.signIn(running)
        for target in ["/exposure", "/relationships", "/history"] {
            let page = try await Self.get(running, target, cookie: cookie)
            #expect(!page.body.contains("<script>alert(1)</script>"), "\(target)")
            #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt; Ltd"), "\(target)")
        }
        let path = "/requests/\(f.requestID)/deny"
        let page = try await Self.get(running, path, cookie: cookie)
        let denied = try await Self.post(
            running, path, cookie: cookie, origin: running.origin,
            form: "token=\(try Self.token(in: page.body, action: path))&reason=%3Cb%3Enot+needed%3C%2Fb%3E")
        #expect(denied.status == 303)
        #expect(try f.vault.requests.request(id: f.requestID).status == .denied)
        let history = try await Self.get(running, "/history?kind=request", cookie: cookie)
        #expect(history.body.contains("request.denied") && history.body.contains("&lt;b&gt;not needed&lt;/b&gt;"))
        #expect(history.body.contains("data-status=\"intact\""))
        #expect(!history.body.contains("data-event=\"grant.issued\""))
    }

    @Test func anOversizedOrNonFormActionIsRefusedAndNothingTraps() async throws {
        let f = try DashboardFixture()
        let running = try await f.start()
        defer { running.task.cancel() }
        let cookie = try await Self.signIn(running)
        let path = "/grants/\(f.bolt.id)/revoke"
        let big = String(repeating: "a=b&", count: 40_000)
        #expect(try await Self.post(running, path, cookie: cookie, origin: running.origin, form: big).status == 413)
        let json = try await blocking {
            try RawHTTP.send(
                port: running.port, method: "POST", target: path,
                headers: [("Host", running.host), ("Cookie", cookie), ("Origin", running.origin), ("Content-Type", "application/json")], body: "{}")
        }
        #expect(json.status == 415)
        let put = try await blocking {
            try RawHTTP.send(
                port: running.port, method: "PUT", target: path, headers: [("Host", running.host), ("Cookie", cookie), ("Origin", running.origin)])
        }
        #expect(put.status == 405)
        for query in ["since=2026-13-45&until=x&kind=%00&vendor=%FF", "vendor=Nobody", "kind=" + String(repeating: "k", count: 5000)] {
            #expect(try await Self.get(running, "/history?" + query, cookie: cookie).status == 200, "\(query)")
        }
        #expect(try f.vault.grants.grant(id: f.bolt.id).revokedAt == nil)
    }

    @Test func theDashboardStopsWhenIdleAndWithItsStopButton() async throws {
        let f = try DashboardFixture()
        let idle = try await f.start(idle: 1)
        #expect(try await idle.task.value == .idle)
        let running = try await f.start()
        let cookie = try await Self.signIn(running)
        let page = try await Self.get(running, "/cases", cookie: cookie)
        let stopped = try await Self.post(
            running, "/stop", cookie: cookie, origin: running.origin, form: "token=\(try Self.token(in: page.body, action: "/stop"))")
        #expect(stopped.status == 200 && stopped.body.contains("stopped"))
        #expect(try await running.task.value == .stopButton)
    }
}
