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

    @Test func anNtfyListenerGetsOneNoticePerRedemptionThenAtMostFiveAnIntervalWithNothingPersonal() async throws {
        let f = try Fixture()
        let listener = WebhookReceiver()
        try await listener.app.test(.live) { ntfy in
            let port = try #require(ntfy.port)
            try f.vault.notifications.set(CustomerChannel(kind: .ntfy, url: "http://127.0.0.1:\(port)/hook/topic", interval: 60))
            let notifier = CustomerNotifier(source: VaultActivity(database: try VaultDatabase.open(path: f.dir.file("vault.db"))), clock: f.clock.closure)
            #expect(await notifier.tick().isEmpty)  // what was there before is not announced
            func texts() -> [String] { listener.deliveries.map { String(decoding: $0.body, as: UTF8.self) } }

            let token = f.bearer.token.encoded()
            let redeemed = "1 redemption of \(f.bearer.grant.id)"
            try redeem(f, token)
            let first = await notifier.tick()
            #expect(first == [ActivityNotice(type: "share.redeemed", grantID: f.bearer.grant.id, at: Millis.from(f.clock.now))])
            #expect(listener.deliveries.first?.headers["title"] == "VRM Vault activity")
            #expect(texts() == [redeemed])

            // Two redemptions and a refusal seen at once: a notice each, one a tick.
            try redeem(f, token, times: 2)
            try redeem(f, "vrm_not-a-token")
            f.clock.advance(by: 1)
            for _ in 0..<3 { #expect(await notifier.tick().count == 1) }
            #expect(await notifier.tick().isEmpty)
            #expect(texts() == [redeemed, redeemed, redeemed, "1 refused redemption"])

            // The fifth notice of the minute carries everything waiting; then nothing until the
            // minute since the first is over.
            try redeem(f, token, times: 3)
            try f.vault.grants.revoke(id: f.keyBound.grant.id)
            #expect(await notifier.tick().map(\.type) == ["share.redeemed", "grant.revoked"])
            #expect(texts().last == "3 redemptions of \(f.bearer.grant.id)\ngrant \(f.keyBound.grant.id) revoked")
            try redeem(f, token)
            f.clock.advance(by: 30)
            #expect(await notifier.tick().isEmpty)
            #expect(listener.deliveries.count == 5)
            f.clock.advance(by: 30)
            #expect(await notifier.tick().count == 1)
            #expect(texts().last == redeemed)
            f.clock.advance(by: 61)
            #expect(await notifier.tick().isEmpty)
            #expect(listener.deliveries.count == 6)
            for body in texts() {
                for personal in ["jo@", "example.org", "Main St", "Acme", "Bolt", "192.0.2.7", "acme-bot", "address"] {
                    #expect(!body.contains(personal), "\(personal) in \(body)")
                }
            }
        }
    }

    @Test func aBusyGrantGivesAtMostFiveNoticesAnIntervalAndEveryEventIsCounted() {
        var batcher = NoticeBatcher()
        var uses: Int64 = 0
        var now: Int64 = 1_000_000
        func read() -> (snapshot: ActivitySnapshot, denials: Int, requests: [String]) { (ActivitySnapshot(uses: ["gr_busy": uses]), 0, []) }
        #expect(batcher.advance(read(), interval: 60, nowMillis: now) == nil)
        var notices: [(at: Int64, count: Int)] = []
        // Ten minutes of a redemption every 100 ms, read once a second.
        for _ in 0..<600 {
            uses += 10
            now += 1000
            if let batch = batcher.advance(read(), interval: 60, nowMillis: now) { notices.append((now, batch.reduce(0) { $0 + $1.count })) }
        }
        for notice in notices {
            #expect(notices.filter { $0.at <= notice.at && notice.at - $0.at < 60_000 }.count <= NoticeBatcher.burst)
        }
        #expect(notices.count <= 10 * NoticeBatcher.burst + NoticeBatcher.burst)
        // Nothing is lost: what went plus what waits is every redemption.
        #expect(notices.reduce(0) { $0 + $1.count } + batcher.pending.reduce(0) { $0 + $1.count } == 6000)
        // A state kept by an earlier version (with `lastSent`) still reads.
        let old = #"{"seen":{"uses":{"gr_a":2},"revoked":[],"lastEntry":0,"lastRequest":0},"pending":[],"lastSent":5}"#
        #expect((try? JSONDecoder().decode(NoticeBatcher.self, from: Data(old.utf8)))?.seen?.uses == ["gr_a": 2])
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
