import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import VaultCore
import VaultCrypto
@testable import VaultServer
import VaultTestSupport

@Suite struct WebhookTests {
    @Test func aShareChangeIsAnnouncedSignedRetriedAfterARefusalAcrossARestartAndNeverCarriesData() async throws {
        let f = try Fixture()
        let receiver = WebhookReceiver()
        try await receiver.app.test(.live) { hook in
            let port = try #require(hook.port)
            let issued = try f.vault.grants.create(
                GrantRequest(
                    vendorName: "Acme", scopes: [.profileField("email")], purpose: .support, expiresAt: f.clock.now.addingTimeInterval(86_400),
                    notifyURL: "http://127.0.0.1:\(port)/hook/ok"))
            let store = VaultWebhookStore(database: try VaultDatabase.open(path: f.dir.file("vault.db")))
            // Issuing is no change: nothing to announce yet.
            #expect(await WebhookDeliverer(store: store, clock: f.clock.closure).deliverDue() == 0)

            try f.vault.profile.set("email", value: "jo@new.example.org")
            receiver.refuse(next: 1)
            let deliverer = WebhookDeliverer(store: store, clock: f.clock.closure)
            #expect(await deliverer.deliverDue() == 1)
            #expect(receiver.deliveries.isEmpty)
            // Not due again before its retry delay (5 s).
            #expect(await deliverer.deliverDue() == 0)
            var status = try #require(try f.vault.grants.webhookStatus(grantID: issued.grant.id))
            #expect(status.events.count == 1 && status.events[0].attempts == 1 && status.events[0].lastStatus == 503)
            #expect(status.events[0].nextAt == f.clock.now.addingTimeInterval(5))

            // A restart: a new server run over the same file sends what is still due.
            f.clock.advance(by: 6)
            let restarted = WebhookDeliverer(store: VaultWebhookStore(database: try VaultDatabase.open(path: f.dir.file("vault.db"))), clock: f.clock.closure)
            #expect(await restarted.deliverDue() == 1)
            let delivery = try #require(receiver.deliveries.first)
            #expect(receiver.deliveries.count == 1)
            status = try #require(try f.vault.grants.webhookStatus(grantID: issued.grant.id))
            #expect(status.events[0].deliveredAt != nil && status.events[0].attempts == 2)

            // Standard Webhooks v1a: checked with the key the JWK Set publishes, whose certificate
            // the vault's pinned signing key made.
            let id = try #require(delivery.headers["webhook-id"])
            let timestamp = try #require(delivery.headers["webhook-timestamp"].flatMap { Int64($0) })
            let signature = try #require(delivery.headers["webhook-signature"])
            #expect(id.hasPrefix("msg_") && timestamp == Int64(f.clock.now.timeIntervalSince1970))
            let (jwks, notify) = try await f.app().test(.router) { client in
                let set = try await client.execute(uri: "/.well-known/jwks.json", method: .get) { response in
                    try JSONDecoder().decode(VaultJWKSet.self, from: Data(buffer: response.body))
                }
                let key = try await client.execute(uri: "/v1/notify-key", method: .get) { response in
                    try JSONDecoder().decode(VaultJWK.self, from: Data(buffer: response.body))
                }
                return (set, key)
            }
            // Never in the JWK Set, where a JOSE library looks a share's signer up.
            #expect(jwks.keys.count == 1 && jwks.keys.allSatisfy { $0.vrmUse == nil && $0.x != notify.x })
            #expect(notify.vrmUse == "notify")
            let certificate = try #require(notify.vrmCertificate?.split(separator: ".").map(String.init))
            #expect(certificate.count == 3)
            let certificateSignature = try #require(Base64URL.decode(certificate[2]))
            #expect(
                Signature.verify(certificateSignature, message: Array("\(certificate[0]).\(certificate[1])".utf8), publicKey: f.vault.keys.signing.publicKey))
            let payload = try #require(Base64URL.decode(certificate[1]))
            let claims = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
            #expect(claims["x"] as? String == notify.x && claims["kid"] as? String == notify.kid)
            let notifyKey = try #require(notify.publicKey)
            #expect(Webhooks.verify(header: signature, id: id, timestamp: timestamp, body: delivery.body, publicKey: notifyKey))
            #expect(!Webhooks.verify(header: signature, id: id, timestamp: timestamp + 1, body: delivery.body, publicKey: notifyKey))

            // A thin event: the grant and its new version, nothing of the data.
            let event = try #require(try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any])
            #expect(event["type"] as? String == "share.updated")
            #expect((event["data"] as? [String: Any])?["grant_id"] as? String == issued.grant.id)
            #expect((event["data"] as? [String: Any])?["share_version"] as? Int == 2)
            let text = String(decoding: delivery.body, as: UTF8.self)
            for personal in ["jo@", "example.org", "Acme", "email", "support"] { #expect(!text.contains(personal), "\(personal) in \(text)") }

            // A revoked grant's pending events are dropped: nothing more is sent.
            try f.vault.profile.set("email", value: "jo@third.example.org")
            try f.vault.grants.revoke(id: issued.grant.id)
            f.clock.advance(by: 3600)
            #expect(await restarted.deliverDue() == 0)
            #expect(receiver.deliveries.count == 1)
        }
    }

    @Test func a410StopsTheGrantsEventsAndAnEndedGrantsEventsAreNotSent() async throws {
        let f = try Fixture()
        let receiver = WebhookReceiver()
        try await receiver.app.test(.live) { hook in
            let port = try #require(hook.port)
            let gone = try f.vault.grants.create(
                GrantRequest(
                    vendorName: "Acme", scopes: [.profileField("email")], purpose: .support, expiresAt: nil, notifyURL: "http://127.0.0.1:\(port)/hook/gone"))
            let expiring = try f.vault.grants.create(
                GrantRequest(
                    vendorName: "Acme", scopes: [.profileField("email")], purpose: .support, expiresAt: f.clock.now.addingTimeInterval(60),
                    notifyURL: "http://127.0.0.1:\(port)/hook/ok"))
            try f.vault.profile.set("email", value: "jo@new.example.org")
            f.clock.advance(by: 120)  // the second grant has expired
            let deliverer = WebhookDeliverer(store: VaultWebhookStore(database: try VaultDatabase.open(path: f.dir.file("vault.db"))), clock: f.clock.closure)
            #expect(await deliverer.deliverDue() == 2)
            #expect(receiver.deliveries.map(\.path) == ["gone"])
            let stoppedGone = try #require(try f.vault.grants.webhookStatus(grantID: gone.grant.id)?.events.first)
            #expect(stoppedGone.stoppedAt != nil && stoppedGone.lastStatus == 410)
            let stoppedExpired = try #require(try f.vault.grants.webhookStatus(grantID: expiring.grant.id)?.events.first)
            #expect(stoppedExpired.stoppedAt != nil && stoppedExpired.attempts == 1 && stoppedExpired.lastStatus == nil)
            f.clock.advance(by: 3600)
            #expect(await deliverer.deliverDue() == 0)
        }
    }

    @Test func aSlowReceiverHoldsNoOtherDeliveryAndABigAnswerIsNotRead() async throws {
        let f = try Fixture()
        let receiver = WebhookReceiver()
        try await receiver.app.test(.live) { hook in
            let port = try #require(hook.port)
            var grants: [String] = []
            for kind in ["slow", "big", "ok"] {
                let issued = try f.vault.grants.create(
                    GrantRequest(
                        vendorName: "Acme", scopes: [.profileField("email")], purpose: .support, expiresAt: nil,
                        notifyURL: "http://127.0.0.1:\(port)/hook/\(kind)"))
                grants.append(issued.grant.id)
            }
            try f.vault.profile.set("email", value: "jo@new.example.org")
            let deliverer = WebhookDeliverer(
                store: VaultWebhookStore(database: try VaultDatabase.open(path: f.dir.file("vault.db"))), clock: f.clock.closure, timeout: 5)
            // The slow receiver holds its answer for 120 s unless released: a round that ends
            // well before then ended at the sender's deadline, not at the receiver's answer.
            let started = ContinuousClock.now
            #expect(await deliverer.deliverDue() == 3)
            #expect(ContinuousClock.now - started < .seconds(60))
            receiver.releaseSlow()
            var status = try grants.map { try #require(try f.vault.grants.webhookStatus(grantID: $0)?.events.first) }
            #expect(status[0].deliveredAt == nil && status[0].lastError?.contains("no answer") == true)
            // The two others were sent beside it, not after it. (A test process starved of
            // threads can miss the deadline once; their retry must then go through.)
            for _ in 0..<3 where status[1].deliveredAt == nil || status[2].deliveredAt == nil {
                f.clock.advance(by: 600)
                _ = await deliverer.deliverDue()
                status = try grants.map { try #require(try f.vault.grants.webhookStatus(grantID: $0)?.events.first) }
            }
            #expect(status[1].deliveredAt != nil && status[1].lastStatus == 200)
            #expect(status[2].deliveredAt != nil && status[2].lastStatus == 204)
        }
    }

    @Test func anAnswerThatTricklesItsBodyIsCutOffAtItsHead() async throws {
        let f = try Fixture()
        let receiver = WebhookReceiver()
        try await receiver.app.test(.live) { hook in
            let port = try #require(hook.port)
            let issued = try f.vault.grants.create(
                GrantRequest(
                    vendorName: "Acme", scopes: [.profileField("email")], purpose: .support, expiresAt: nil,
                    notifyURL: "http://127.0.0.1:\(port)/hook/trickle"))
            try f.vault.profile.set("email", value: "jo@new.example.org")
            let deliverer = WebhookDeliverer(
                store: VaultWebhookStore(database: try VaultDatabase.open(path: f.dir.file("vault.db"))), clock: f.clock.closure, timeout: 5)
            #expect(await deliverer.deliverDue() == 1)
            let answered = Date()
            #expect(try f.vault.grants.webhookStatus(grantID: issued.grant.id)?.events.first?.lastStatus == 200)
            // The receiver would go on for two minutes; the sender hangs up long before (the
            // margin is for a test process starved of threads, not the sender's deadline).
            var closed = receiver.trickleClosedAt
            while closed == nil, Date().timeIntervalSince(answered) < 90 {
                try await Task.sleep(for: .milliseconds(200))
                closed = receiver.trickleClosedAt
            }
            let at = try #require(closed, "the sender kept reading the answer's body")
            #expect(at.timeIntervalSince(answered) < 60)
        }
    }

    @Test func anAnswerThatFloodsItsBodyIsNotRead() async throws {
        let f = try Fixture()
        let flood = try VaultTestSupport.RawHTTP.FloodServer()
        defer { flood.stop() }
        for n in 0..<4 {
            _ = try f.vault.grants.create(
                GrantRequest(
                    vendorName: "Acme", scopes: [.profileField("email")], purpose: .support, expiresAt: nil,
                    notifyURL: "http://127.0.0.1:\(flood.port)/hook?n=\(n)"))
        }
        try f.vault.profile.set("email", value: "jo@new.example.org")
        let deliverer = WebhookDeliverer(
            store: VaultWebhookStore(database: try VaultDatabase.open(path: f.dir.file("vault.db"))), clock: f.clock.closure, timeout: 5)
        #expect(await deliverer.deliverDue() == 4)
        // The sender hangs up at the head: the server got out what the sockets' buffers hold,
        // not the 4 GiB a reader would take. (Foundation's URLSession read on whatever its
        // delegate said: with it, this failed.)
        let deadline = Date().addingTimeInterval(60)
        while flood.closed < 4, Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(flood.closed == 4, "\(flood.closed) of 4 connections closed, \(flood.written) bytes read")
        #expect(flood.written < 4 * (16 << 20), "\(flood.written) bytes were read")
        let status = try f.vault.grants.list().compactMap { try f.vault.grants.webhookStatus(grantID: $0.id)?.events.first }
        #expect(status.count == 4 && status.allSatisfy { $0.lastStatus == 200 && $0.deliveredAt != nil })
    }

    @Test func anHTTPSReceiverIsCheckedAgainstTheSystemsTrustRoots() async throws {
        let f = try Fixture()
        // The test certificate is self-signed: the sender refuses it, by name and by address.
        try await f.app(tls: (ServeTLSTests.certificate, ServeTLSTests.key)).test(.live) { client in
            let port = try #require(client.port)
            for host in ["localhost", "127.0.0.1"] {
                let result = await WebhookSender(timeout: 30).post("https://\(host):\(port)/hook", body: Array("{}".utf8), headers: [:])
                guard case .failure(let why) = result else {
                    Issue.record("an untrusted certificate was accepted at \(host)")
                    continue
                }
                #expect(why.text.contains("TLS failed"), "\(why.text)")
            }
        }
        // Nobody listening. (No name lookup here: the machine may have no resolver to ask.)
        if case .failure(let why) = await WebhookSender(timeout: 30).post("http://127.0.0.1:9/hook", body: [], headers: [:]) {
            #expect(why.text == "no answer: connection refused")
        } else {
            Issue.record("port 9 answered")
        }
    }

    @Test func anUnreachableReceiverIsRetriedOnScheduleAndGivenUpAfter24Hours() async throws {
        #expect(Webhooks.nextAttempt(attempts: 1, createdAt: 0, nowMillis: 0) == 5_000)
        #expect(Webhooks.nextAttempt(attempts: 2, createdAt: 0, nowMillis: 5_000) == 35_000)
        #expect(Webhooks.nextAttempt(attempts: 5, createdAt: 0, nowMillis: 1_000_000) == Int64(4_600_000))
        #expect(Webhooks.nextAttempt(attempts: 9, createdAt: 0, nowMillis: 23 * 3_600_000) == Int64(86_400_000))
        #expect(Webhooks.nextAttempt(attempts: 10, createdAt: 0, nowMillis: 24 * 3_600_000) == nil)
        let f = try Fixture()
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        let issued = try f.vault.grants.create(
            GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .support, expiresAt: nil, notifyURL: "http://127.0.0.1:9/hook"))
        try f.vault.profile.set("email", value: "jo@new.example.org")
        let deliverer = WebhookDeliverer(store: VaultWebhookStore(database: try VaultDatabase.open(path: f.dir.file("vault.db"))), clock: f.clock.closure)
        #expect(await deliverer.deliverDue() == 1)
        let event = try #require(try f.vault.grants.webhookStatus(grantID: issued.grant.id)?.events.first)
        #expect(event.lastError?.hasPrefix("no answer") == true && !(event.lastError ?? "").contains("127.0.0.1"))
        #expect(event.deliveredAt == nil && event.stoppedAt == nil)
    }

    @Test func aNotificationURLMustBeHTTPSOrLoopback() throws {
        let f = try Fixture()
        for url in [
            "http://acme.example/hook", "ftp://acme.example/hook", "https://user:pw@acme.example/hook", "not a url",
            "http://127.evil.example/hook", "https://169.254.169.254/latest/meta-data", "https://10.0.0.1/hook", "https://192.168.1.1/",
            "https://[fd00::1]/hook", "https://[fe80::1]/hook", "https://100.64.0.1/", "https://0.0.0.0/", "https://[::ffff:10.0.0.1]/",
            "https://10.1/", "https://0x0a.0.0.1/", "https://012.0.0.1/", "https://167772161/", "https://0/", "https://169.254.169.254./",
            "http://[::1]:9000/", "https://[64:ff9b::a00:1]/", "http://10.0.0.1/", "https://acme.example:0/", "https://acme.example:99999/",
            "https://acme.example/a hook", "https://acme.example/hook#x", "acme.example/hook", "https://acme.example/\u{7F}",
        ] {
            #expect(throws: VaultError.self) {
                try f.vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .support, expiresAt: nil, notifyURL: url))
            }
        }
        _ = try f.vault.grants.create(
            GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .support, expiresAt: nil, notifyURL: "https://acme.example/hook"))
        _ = try f.vault.grants.create(
            GrantRequest(
                vendorName: "Acme", scopes: [.profile], purpose: .support, expiresAt: nil, notifyURL: "https://acme.example:8443/hook?key=a%20b"))
    }
}
