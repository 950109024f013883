import Foundation
import Testing
import Hummingbird
import HummingbirdTesting
import VaultCore
import VaultCrypto
import VaultTestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A vendor's HTTP call to an endpoint's access-request routes: status and JSON object.
func requestCall(_ url: String, method: String = "GET", body: Data? = nil) async throws -> (status: Int, json: [String: Any]) {
    var request = URLRequest(url: try #require(URL(string: url)))
    request.httpMethod = method
    request.httpBody = body
    if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
    request.cachePolicy = .reloadIgnoringLocalCacheData
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
}

extension RelaySuites {
    @Suite("Relay: access requests")
    struct RelayRequestTests {
        @Test("a vendor asks the relay with a link, is approved narrower, fetches its sealed token and redeems it there")
        func askApproveRedeem() async throws {
            let f = try await RelayFixture.make()
            let (relay, _) = try await f.linkedWithOneGrant()
            try await f.vrm(["profile", "set", "address.shipping", "1 Quiet Lane"])
            // The link names the relay (the linked vault's endpoint) and the relay has its code.
            let made = try await f.vrm(["request", "link", "--vendor", "Cobalt", "--json"])
            let link = try #require((try JSONSerialization.jsonObject(with: Data(made.utf8)) as? [String: Any])?["link"] as? String)
            let vendor = try AskingVendor(uri: link)
            #expect(vendor.endpoint == relay.url)

            // Tampered in transit: refused, the code not spent. Then the real request.
            let tampered = try await requestCall(
                relay.url + "/v1/requests", method: "POST",
                body: try vendor.submission(vendor.body(scopes: ["profile.email", "profile.address.*"]), tamper: true))
            #expect(tampered.status == 400)
            let asked = try await requestCall(
                relay.url + "/v1/requests", method: "POST",
                body: try vendor.submission(vendor.body(scopes: ["profile.email", "profile.address.*", "profile.preference.*"])))
            #expect(asked.status == 201)
            let id = try #require(asked.json["id"] as? String)
            let again = try await requestCall(relay.url + "/v1/requests", method: "POST", body: try vendor.submission(vendor.body(scopes: ["profile"])))
            #expect(again.status == 403 && again.json["type"] as? String == "urn:vrm-vault:problem:invalid-request-code")
            #expect(try await requestCall(relay.url + "/v1/requests/\(id)").json["status"] as? String == "pending")

            // The customer sees it (pulled from the relay) and approves it narrower.
            let listed = try await f.vrm(["request", "list", "--json"])
            let requests = try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]] ?? []
            #expect(requests.count == 1 && requests.first?["vendor"] as? String == "Cobalt Shop" && requests.first?["status"] as? String == "pending")
            try await f.vrm(["request", "approve", id, "--scope", "profile.profile"], status: 2)
            // A scope that matches no field yet is granted, and said (an outside check was not told).
            let approved = try await f.vrm([
                "request", "approve", id, "--scope", "profile.address.shipping", "--scope", "profile.preference.*", "--max-uses", "2",
            ])
            #expect(approved.contains("Note: profile.preference.* matches no field of your profile yet"), "\(approved)")

            let outcome = try await requestCall(relay.url + "/v1/requests/\(id)")
            #expect(outcome.json["status"] as? String == "approved")
            #expect(outcome.json["endpoint"] as? String == relay.url)
            let sealed = try #require((outcome.json["token_sealed"] as? String).flatMap(Base64URL.decode))
            let token = String(decoding: try SealedBox.open(sealed, keyPair: vendor.key), as: UTF8.self)
            let share = try await fetchShare(relay.url, token: token)
            #expect(share.status == 200)
            let document = try JSONDecoder().decode(SealedShare.self, from: Data(share.body.utf8)).open(with: vendor.key)
            #expect(String(decoding: Data(base64URLPayloadOf: document), as: UTF8.self).contains("1 Quiet Lane"))

            // Every step is in the history once synced, and it verifies.
            try await f.vrm(["relay", "sync"])
            let audit = try await f.vrm(["audit", "--json"])
            let events = (try JSONSerialization.jsonObject(with: Data(audit.utf8)) as? [[String: Any]] ?? []).compactMap { $0["event"] as? String }
            for event in ["request.linked", "request.received", "grant.issued", "request.approved", "share.redeemed"] {
                #expect(events.contains(event), "\(event) in \(events)")
            }
            try await f.vrm(["audit", "verify"])
            // The relay never held the request in the clear.
            let dump = try await f.dump()
            #expect(dump.contains("relay_requests"))
            for secret in ["Cobalt", "cobalt.example", "Quiet Lane", token] { #expect(!dump.contains(secret), "the relay's database holds \(secret)") }
        }

        @Test("the relay announces a share change to the vendor's webhook, signed and retried, and tells the customer's ntfy of a redemption")
        func notifications() async throws {
            let f = try await RelayFixture.make()
            let receiver = WebhookReceiver()
            try await receiver.app.test(.live) { hook in
                let port = try #require(hook.port)
                let (relay, token) = try await f.linkedWithOneGrant()
                let hooked = try await f.grant(["--notify-url", "http://127.0.0.1:\(port)/hook/vendor"])
                try await f.vrm(["notify", "set", "--ntfy", "http://127.0.0.1:\(port)/hook/ntfy", "--interval", "10s"])
                // The relay's notifier has seen the vault as it is now: older activity is not announced.
                var baseline = false
                let deadline = Date().addingTimeInterval(120)
                while !baseline, Date() < deadline {
                    baseline = try await f.psql("SELECT notice_state IS NOT NULL FROM relay_vaults").contains("t")
                    if !baseline { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(baseline)
                receiver.refuse(next: 1, path: "vendor")
                try await f.vrm(["profile", "set", "email", "alice@new.example"])
                #expect(try await fetchShare(relay.url, token: token).status == 200)
                #expect(await receiver.wait { $0.contains { $0.path == "vendor" } && $0.contains { $0.path == "ntfy" } })

                // The vendor's event: refused once, then delivered 5 s later; thin; signed with
                // the key in the JWK Set of the grant's vault at the relay.
                let event = try #require(receiver.deliveries.first { $0.path == "vendor" })
                var keyRequest = URLRequest(url: try #require(URL(string: relay.url + "/v1/notify-key")))
                keyRequest.setValue("Bearer \(hooked)", forHTTPHeaderField: "Authorization")
                let notify = try JSONDecoder().decode(VaultJWK.self, from: try await URLSession.shared.data(for: keyRequest).0)
                #expect(notify.vrmUse == "notify")
                let key = try #require(notify.publicKey)
                let id = try #require(event.headers["webhook-id"])
                let timestamp = try #require(event.headers["webhook-timestamp"].flatMap { Int64($0) })
                #expect(Webhooks.verify(header: event.headers["webhook-signature"] ?? "", id: id, timestamp: timestamp, body: event.body, publicKey: key))
                let body = String(decoding: event.body, as: UTF8.self)
                #expect(body.contains("\"share_version\":2") && body.contains("share.updated") && !body.contains("alice"))

                // The customer sees the relay's deliveries in `vrm grant show`: the refusal, then the delivery.
                let grants = try JSONSerialization.jsonObject(with: Data(try await f.vrm(["grant", "list", "--json"]).utf8)) as? [[String: Any]] ?? []
                let hookedID = try #require(grants.first { $0["notify_url"] != nil }?["id"] as? String)
                let shown = try JSONSerialization.jsonObject(with: Data(try await f.vrm(["grant", "show", hookedID, "--json"]).utf8)) as? [String: Any]
                let deliveries = shown?["deliveries"] as? [[String: Any]] ?? []
                #expect(deliveries.count == 1 && deliveries.first?["id"] as? String == id)
                #expect(deliveries.first?["attempts"] as? Int == 2 && deliveries.first?["delivered_at"] != nil)

                // The customer's notice: the redemption, nothing personal.
                let notice = String(decoding: try #require(receiver.deliveries.first { $0.path == "ntfy" }).body, as: UTF8.self)
                #expect(notice.hasPrefix("1 redemption of gr_"), "\(notice)")
                #expect(!notice.contains("alice") && !notice.contains("Acme"))
                // The relay's database holds the key and the URLs, no data.
                let dump = try await f.dump()
                #expect(!dump.contains("alice"))
            }
        }

        @Test("a relay sends nothing to its own machine unless its operator allows it, and vrm grant show says why")
        func loopbackRefused() async throws {
            let f = try await RelayFixture.make()
            let receiver = WebhookReceiver()
            try await receiver.app.test(.live) { hook in
                let port = try #require(hook.port)
                let relay = try await f.startRelay(loopback: false)
                try await f.vrm(["profile", "set", "email", "alice@example.com"])
                try await f.vrm(["vendor", "add", "Acme Outdoor"])
                try await f.vrm(["relay", "link", relay.url, "--invite", try await f.invite()])
                try await f.vrm(["notify", "set", "--ntfy", "http://localhost:\(port)/hook/ntfy", "--interval", "10s"])
                _ = try await f.grant(["--notify-url", "http://127.0.0.1:\(port)/hook/vendor"])
                let id = try #require(try await f.grantIDs().first)
                try await f.vrm(["profile", "set", "email", "alice@new.example"])
                #expect(try await fetchShare(relay.url, token: try await f.grant()).status == 200)
                var deliveries: [[String: Any]] = []
                for _ in 0..<150 where deliveries.first?["stopped_at"] == nil {
                    try await Task.sleep(for: .milliseconds(200))
                    let shown = try JSONSerialization.jsonObject(with: Data(try await f.vrm(["grant", "show", id, "--json"]).utf8)) as? [String: Any]
                    deliveries = shown?["deliveries"] as? [[String: Any]] ?? []
                }
                #expect(deliveries.count == 1)
                #expect((deliveries.first?["last_error"] as? String)?.contains("--allow-loopback-receivers") == true, "\(deliveries)")
                // Neither the vendor's event nor the customer's notice reached this machine.
                try await Task.sleep(for: .seconds(2))
                #expect(receiver.deliveries.isEmpty)
            }
        }

        @Test("a host that writes the vault file cannot have the relay send notices elsewhere or a vendor redeem at its server")
        func hostWrites() async throws {
            let f = try await RelayFixture.make()
            let (relay, _) = try await f.linkedWithOneGrant()
            try await f.vrm(["notify", "set", "--ntfy", "http://127.0.0.1:9/hook/mine"])
            let db = try RawDatabase.open(f.cli.vault)

            // The host rewrites the channel and queues it for the relay: whatever the next
            // commands do, they push nothing the CLI did not write.
            try db.execute("UPDATE notify_settings SET customer_url = 'https://attacker.example/topic'")
            try db.execute("INSERT INTO relay_outbox (grant_id) VALUES ('nt:settings')")
            #expect(try await f.run(["grant", "list"]).status == 4)
            #expect(try await f.run(["relay", "sync"]).status == 4)
            #expect(try await f.psql("SELECT customer_url FROM relay_vaults").contains("127.0.0.1:9/hook/mine"))
            try db.execute("UPDATE notify_settings SET customer_url = 'http://127.0.0.1:9/hook/mine'")
            try db.execute("DELETE FROM relay_outbox")
            try await f.vrm(["grant", "list"])

            // An approval queued while the relay is away; the host points the request's row at
            // its own server. The decision is pushed from the CLI's sealed record (the endpoint
            // from the link), not from the row's columns, which the endpoint writes.
            let made = try await f.vrm(["request", "link", "--vendor", "Cobalt", "--json"])
            let vendor = try AskingVendor(uri: try #require((try JSONSerialization.jsonObject(with: Data(made.utf8)) as? [String: Any])?["link"] as? String))
            let asked = try await requestCall(relay.url + "/v1/requests", method: "POST", body: try vendor.submission(vendor.body(scopes: ["profile.email"])))
            let id = try #require(asked.json["id"] as? String)
            try await f.vrm(["request", "show", id])
            relay.stop()
            #expect(try await f.run(["request", "approve", id]).status == 6)
            try db.execute("UPDATE access_requests SET endpoint = 'https://evil.example'")
            let restarted = try await f.background(["relay", "serve", "--port", String(relay.port)], name: "relay")
            try await f.vrm(["relay", "sync"])
            let outcome = try await requestCall(restarted.url + "/v1/requests/\(id)")
            #expect(outcome.json["status"] as? String == "approved")
            #expect(outcome.json["endpoint"] as? String == relay.url)
            #expect(try db.int("SELECT count(*) FROM relay_outbox") == 0)
        }

        @Test("a request after the link expired, or with an unknown code, is refused at the relay")
        func refused() async throws {
            let f = try await RelayFixture.make()
            let (relay, _) = try await f.linkedWithOneGrant()
            let made = try await f.vrm(["request", "link", "--expires", "1m", "--json"])
            let link = try #require((try JSONSerialization.jsonObject(with: Data(made.utf8)) as? [String: Any])?["link"] as? String)
            let vendor = try AskingVendor(uri: link)
            let unknown = try AskingVendor(uri: link.replacingOccurrences(of: vendor.code, with: try RequestCode.generate().encoded()))
            #expect(
                try await requestCall(relay.url + "/v1/requests", method: "POST", body: try unknown.submission(unknown.body(scopes: ["profile.email"]))).status
                    == 403)
            #expect(try await requestCall(relay.url + "/v1/requests/\(RequestID.generate())").status == 404)
            // The relay's clock is real: age the link in its database instead of waiting.
            _ = try await f.psql("UPDATE relay_request_links SET expires_at = 0")
            #expect(
                try await requestCall(relay.url + "/v1/requests", method: "POST", body: try vendor.submission(vendor.body(scopes: ["profile.email"]))).status
                    == 403)
        }
    }
}

extension Data {
    /// The payload of a JWS in the flattened JSON serialization, decoded.
    init(base64URLPayloadOf share: SignedShare) {
        self.init(Base64URL.decode(share.payload) ?? [])
    }
}
