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

@Suite struct CustomerNoticeTests {
    func redeem(_ f: Fixture, _ token: String, times: Int = 1) throws {
        let redeemer = try Redeemer(database: try VaultDatabase.open(path: f.dir.file("vault.db")), clock: f.clock.closure)
        for _ in 0..<times { _ = try redeemer.redeem(RedemptionRequest(token: token[...], client: "192.0.2.7", userAgent: "acme-bot/2", held: nil)) }
    }

    @Test func anNtfyListenerGetsTheFirstRedemptionAtOnceThenOneBatchPerIntervalWithNothingPersonal() async throws {
        let f = try Fixture()
        let listener = WebhookReceiver()
        try await listener.app.test(.live) { ntfy in
            let port = try #require(ntfy.port)
            try f.vault.notifications.set(CustomerChannel(kind: .ntfy, url: "http://127.0.0.1:\(port)/hook/topic", interval: 60))
            let notifier = CustomerNotifier(source: VaultActivity(database: try VaultDatabase.open(path: f.dir.file("vault.db"))), clock: f.clock.closure)
            #expect(await notifier.tick().isEmpty)  // what was there before is not announced

            let token = f.bearer.token.encoded()
            try redeem(f, token)
            let first = await notifier.tick()
            #expect(first == [ActivityNotice(type: "share.redeemed", grantID: f.bearer.grant.id, at: Millis.from(f.clock.now))])
            #expect(listener.deliveries.count == 1)
            #expect(listener.deliveries.first?.headers["title"] == "VRM Vault activity")
            #expect(String(decoding: listener.deliveries.first?.body ?? [], as: UTF8.self) == "1 redemption of \(f.bearer.grant.id)")

            // Within the minute: counted, not sent.
            try redeem(f, token, times: 2)
            try redeem(f, "vrm_not-a-token")
            f.clock.advance(by: 30)
            #expect(await notifier.tick().isEmpty)
            #expect(listener.deliveries.count == 1)
            // Once the minute has passed: one notice for everything since.
            f.clock.advance(by: 31)
            let batch = await notifier.tick()
            #expect(batch.map(\.type) == ["share.redeemed", "share.denied"])
            #expect(listener.deliveries.count == 2)
            let text = String(decoding: listener.deliveries[1].body, as: UTF8.self)
            #expect(text == "2 redemptions of \(f.bearer.grant.id)\n1 refused redemption")

            // A revocation and an access request, then nothing more is sent for a quiet minute.
            try f.vault.grants.revoke(id: f.keyBound.grant.id)
            f.clock.advance(by: 61)
            #expect(await notifier.tick().map(\.type) == ["grant.revoked"])
            f.clock.advance(by: 61)
            #expect(await notifier.tick().isEmpty)
            #expect(listener.deliveries.count == 3)
            for delivery in listener.deliveries {
                let body = String(decoding: delivery.body, as: UTF8.self)
                for personal in ["jo@", "example.org", "Main St", "Acme", "Bolt", "192.0.2.7", "acme-bot", "address"] {
                    #expect(!body.contains(personal), "\(personal) in \(body)")
                }
            }
        }
    }

    @Test func aWebhookNoticeIsSignedAndVrmNotifyTestSendsOne() async throws {
        let f = try Fixture()
        let listener = WebhookReceiver()
        try await listener.app.test(.live) { hook in
            let port = try #require(hook.port)
            let channel = CustomerChannel(kind: .webhook, url: "http://127.0.0.1:\(port)/hook/mine", interval: 10)
            try f.vault.notifications.set(channel)
            #expect(try f.vault.notifications.channel() == channel)
            // A generous deadline: the test process can be starved of threads by its neighbours.
            let sent = await CustomerNotifier.sendTest(to: channel, signer: try f.vault.notifications.signer(), timeout: 60)
            #expect((try? sent.get()) == 204)
            let delivery = try #require(listener.deliveries.first)
            let key = try #require(try f.vault.notifications.signer()?.publicKey)
            let id = try #require(delivery.headers["webhook-id"])
            let timestamp = try #require(delivery.headers["webhook-timestamp"].flatMap { Int64($0) })
            #expect(
                Webhooks.verify(header: try #require(delivery.headers["webhook-signature"]), id: id, timestamp: timestamp, body: delivery.body, publicKey: key))
            let event = try #require(try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any])
            #expect(event["type"] as? String == "vault.activity")
            #expect(((event["data"] as? [String: Any])?["events"] as? [[String: Any]])?.first?["type"] as? String == "vrm.test")
        }
        // Off: nothing is sent, whatever happens.
        try f.vault.notifications.clear()
        #expect(try f.vault.notifications.channel() == nil)
        let notifier = CustomerNotifier(source: VaultActivity(database: try VaultDatabase.open(path: f.dir.file("vault.db"))), clock: f.clock.closure)
        _ = await notifier.tick()
        try redeem(f, f.bearer.token.encoded())
        #expect(await notifier.tick().isEmpty)
    }

    @Test func anUnreachableChannelFailsTheTestAndABadURLIsRefused() async throws {
        let f = try Fixture()
        for url in ["http://ntfy.example/topic", "file:///etc/passwd", "https://u:p@ntfy.sh/x"] {
            #expect(throws: VaultError.self) { try f.vault.notifications.set(CustomerChannel(kind: .ntfy, url: url)) }
        }
        #expect(throws: VaultError.self) { try f.vault.notifications.set(CustomerChannel(kind: .ntfy, url: "https://ntfy.sh/x", interval: 1)) }
        let result = await CustomerNotifier.sendTest(to: CustomerChannel(kind: .ntfy, url: "http://127.0.0.1:9/topic"), signer: nil, timeout: 5)
        #expect((try? result.get()) == nil)
    }
}
