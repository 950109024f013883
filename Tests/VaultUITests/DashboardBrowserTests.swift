import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import VaultCore
import VaultTestSupport
import VaultUI

/// The dashboard in a real browser: Debian's headless chromium over WebDriver. Screenshots of
/// every view, at a desktop's width and a phone's, go to `test-artifacts/dashboard/`.
@Suite(.serialized) struct DashboardBrowserTests {
    static let views = ["exposure", "history", "relationships", "cases", "requests"]

    static func save(_ png: Data, _ name: String) throws {
        let dir = try testArtifactsDirectory("dashboard")
        try png.write(to: URL(fileURLWithPath: dir + "/" + name + ".png"))
    }

    @Test func everyViewLoadsTheGridMatchesTheVaultAndScreenshotsAreKept() async throws {
        let f = try DashboardFixture()
        let running = try await f.start()
        defer { running.task.cancel() }
        let browser = try await Browser(width: 1280, height: 900)
        do {
            try await browser.go(running.link)
            // Signed in: the link gave way to the session's path.
            let landed = try await browser.url()
            #expect(landed.hasPrefix(running.origin + "/s/") && landed.hasSuffix("/exposure") && !landed.contains("k="))
            let base = String(landed.dropLast("exposure".count))
            #expect(try await browser.title() == "Exposure — VRM Vault")

            // The grid: each vendor's row lists, in each column, the grants that cover it.
            func cell(_ vendorID: String, _ column: String) async throws -> [String: String] {
                let chips = try await browser.elements("tr[data-vendor='\(vendorID)'] td[data-column='\(column)'] .chip")
                var found: [String: String] = [:]
                for chip in chips {
                    found[try await browser.attribute(chip, "data-grant") ?? ""] = try await browser.attribute(chip, "data-state")
                }
                return found
            }
            let acmeID = f.acme.vendorID, boltID = f.bolt.vendorID
            #expect(try await cell(acmeID, "profile.email") == [f.acme.id: "active"])
            #expect(try await cell(acmeID, "purchases") == [f.acme.id: "active"])
            #expect(try await cell(acmeID, "vendor") == [f.ended.id: "revoked"])
            #expect(try await cell(acmeID, "profile.address.shipping") == [:])
            #expect(try await cell(acmeID, "cases") == [:])
            #expect(try await cell(boltID, "profile.address.shipping") == [f.bolt.id: "active"])
            #expect(try await cell(boltID, "profile.email") == [:])
            let acmeChip = try await browser.element("tr[data-vendor='\(acmeID)'] td[data-column='purchases'] .chip")
            let chipText = try await browser.text(acmeChip)
            #expect(chipText.contains("theirs (1)") && chipText.contains("0/5 uses") && chipText.contains("until"))
            // Every grant the vault holds is in the grants table, and nothing else is.
            let rows = try await browser.elements("#grants ~ .scroll tr[data-grant]")
            var listed: Set<String> = []
            for row in rows { listed.insert(try await browser.attribute(row, "data-grant") ?? "") }
            #expect(listed == Set(try f.vault.grants.list().map(\.id)))
            // Hostile names are text.
            #expect(try await browser.elements("script").isEmpty)

            // Keyboard: the first Tab reaches the skip link, which leads to the content.
            try await browser.press("\u{E004}")
            #expect(try await browser.execute("return document.activeElement.textContent") as? String == "Skip to content")

            for width in [1280, 390] {
                try await browser.setWindow(width: width, height: width == 390 ? 844 : 900)
                for view in Self.views {
                    try await browser.go(base + view)
                    #expect(try await browser.elements("main h1").count == 1, "\(view)")
                    // At a phone's width nothing makes the page itself scroll sideways
                    // (the grid scrolls inside its own region).
                    let overflow = try await browser.execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth") as? Int
                    if overflow != 0 {
                        let culprits =
                            try await browser.execute(
                                """
                                return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > \
                                document.documentElement.clientWidth + 1 && !e.closest('.scroll')).slice(0, 5).map(e => e.tagName + '.' + e.className).join(' ')
                                """) as? String
                        Issue.record("\(view) at \(width): \(overflow ?? -1) px too wide: \(culprits ?? "")")
                    }
                    try Self.save(try await browser.screenshot(), "\(view)-\(width == 390 ? "phone" : "desktop")")
                }
            }
            // Charts are drawn: one per currency, and the history's.
            try await browser.go(base + "relationships")
            #expect(try await browser.elements("figure[data-currency='EUR'] svg rect.bar").count == 5)  // 2026-07…11
            #expect(try await browser.elements("figure[data-currency='USD']").count == 1)
            try await browser.go(base + "history")
            #expect(try await browser.text(try await browser.element("#chain-status")).contains("Chain verified"))
            #expect(try await browser.elements("#history-chart-t").count == 1)
            // Every field a person fills in has a label, on every form the dashboard has.
            for page in ["history", "requests/\(f.requestID)/approve", "requests/\(f.requestID)/deny", "cases/\(f.laterCase.id)/close"] {
                try await browser.go(base + page)
                let unlabelled =
                    try await browser.execute(
                        """
                        return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).filter(e => \
                        !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length
                        """) as? Int
                #expect(unlabelled == 0, "\(page): \(unlabelled ?? -1) fields without a label")
                try Self.save(try await browser.screenshot(), "form-" + (page.split(separator: "/").last.map(String.init) ?? "page"))
            }
            // Nothing the page asked for was refused by its own policy.
            let console = try await browser.consoleMessages()
            #expect(!console.contains { $0.contains("Content Security Policy") || $0.contains("Refused") }, "\(console)")
        } catch {
            await browser.close()
            throw error
        }
        await browser.close()
    }

    @Test func aRevokeFromThePageIsRefusedWithoutItsTokenAndWorksWithIt() async throws {
        let f = try DashboardFixture()
        let running = try await f.start()
        defer { running.task.cancel() }
        let browser = try await Browser()
        do {
            try await browser.go(running.link)
            let base = String(try await browser.url().dropLast("exposure".count))
            try await browser.click(try await browser.element("a[href='\(String(base.dropFirst(running.origin.count)))grants/\(f.bolt.id)/revoke']"))
            #expect(try await browser.url() == base + "grants/\(f.bolt.id)/revoke")
            try Self.save(try await browser.screenshot(), "revoke-confirm")
            // The page's token taken out of the form: refused, and the grant stays.
            _ = try await browser.execute("document.querySelector('#confirm-form input[name=token]').value = ''")
            try await browser.click(try await browser.element("#confirm"))
            #expect(try await browser.waitFor(title: "Refused — VRM Vault"))
            #expect(try await browser.source().contains("token is missing"))
            try Self.save(try await browser.screenshot(), "revoke-refused")
            #expect(try f.vault.grants.grant(id: f.bolt.id).revokedAt == nil)
            // Back to the page (reloaded: a fresh token), confirmed: revoked.
            try await browser.go(base + "grants/\(f.bolt.id)/revoke")
            try await browser.click(try await browser.element("#confirm"))
            #expect(try await browser.waitFor(title: "Exposure — VRM Vault"))
            #expect(try await browser.url() == base + "exposure#grants")
            #expect(try await browser.text(try await browser.element("div.flash")).contains("Revoked grant \(f.bolt.id)"))
            #expect(try f.vault.grants.grant(id: f.bolt.id).revokedAt != nil)
            let state = try await browser.element("tr[data-vendor='\(f.bolt.vendorID)'] td[data-column='profile.address.shipping'] .chip")
            #expect(try await browser.attribute(state, "data-state") == "revoked")
            try Self.save(try await browser.screenshot(), "revoke-done")
        } catch {
            await browser.close()
            throw error
        }
        await browser.close()
    }

    @Test func aPageFromAnotherOriginCannotActOrRead() async throws {
        let f = try DashboardFixture()
        let running = try await f.start()
        defer { running.task.cancel() }
        // A page on another port of this machine (same site, another origin) with a form aimed
        // at the dashboard — even knowing the session's path, which such a page cannot learn —
        // and a frame of it; the page's server notes every Cookie header the browser sends it.
        let seen = SeenHeaders()
        let router = Router()
        router.get("/") { request, _ in
            seen.add(request.headers[.cookie] ?? "")
            let base = seen.base
            return Response(
                status: .ok, headers: [.contentType: "text/html"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: """
                            <!doctype html><title>Prize</title><form method="post" action="\(base)grants/\(f.acme.id)/revoke">\
                            <input type="hidden" name="token" value="guess"><button id="go">Claim</button></form>\
                            <iframe id="frame" src="\(base)exposure"></iframe>
                            """)))
        }
        let attacker = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await attacker.test(.live) { client in
            let port = try #require(client.port)
            let browser = try await Browser()
            do {
                try await browser.go(running.link)  // the customer is signed in
                seen.base = String(try await browser.url().dropLast("exposure".count))
                try await browser.go("http://127.0.0.1:\(port)/")
                try await browser.click(try await browser.element("#go"))
                #expect(try await browser.waitFor(title: "Refused — VRM Vault"))
                #expect(try await browser.source().contains("must come from the dashboard"))
                #expect(try f.vault.grants.grant(id: f.acme.id).revokedAt == nil)
                // The frame is refused by the dashboard's frame-ancestors and X-Frame-Options:
                // inside it is the browser's own error page, not the grid.
                try await browser.go("http://127.0.0.1:\(port)/")
                try await Task.sleep(for: .milliseconds(500))
                try await browser.frame(try await browser.element("#frame"))
                let framed = try await browser.source()
                try await browser.frame(nil)
                #expect(!framed.contains("Who can see what") && !framed.contains(f.acme.id), "\(framed.prefix(300))")
                // Nothing of the dashboard's session went to the other port.
                #expect(seen.all.allSatisfy { !$0.contains("vrm") && !$0.contains(seen.base.split(separator: "/").last.map(String.init) ?? "-") })
            } catch {
                await browser.close()
                throw error
            }
            await browser.close()
        }
    }
}

/// What the other origin's server was sent, and the session path to aim at.
final class SeenHeaders: @unchecked Sendable {
    private let lock = NSLock()
    private var headers: [String] = []
    private var target = ""
    func add(_ header: String) { lock.withLock { headers.append(header) } }
    var all: [String] { lock.withLock { headers } }
    var base: String {
        get { lock.withLock { target } }
        set { lock.withLock { target = newValue } }
    }
}
