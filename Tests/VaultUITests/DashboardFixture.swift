import Foundation
import VaultCore
import VaultCrypto
import VaultTestSupport
import VaultUI

/// A vault with something on every view: two vendors with active grants, an ended grant, a
/// hostile vendor name, purchases in two currencies over several months, an overdue case and a
/// pending access request — and a dashboard over it on a free port.
final class DashboardFixture: @unchecked Sendable {
    let dir = TemporaryDirectory()
    let vault: Vault
    /// Acme: profile.email and its own purchases, 30 days, 5 uses.
    let acme: Grant
    /// Bolt: every profile.address.* field, no end.
    let bolt: Grant
    /// Acme's revoked grant for the vendor entry.
    let ended: Grant
    let overdueCase: SupportCase
    let laterCase: SupportCase
    let requestID: String
    static let hostile = "<script>alert(1)</script> Ltd"

    init() throws {
        vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        _ = try vault.profile.set("address.shipping", value: "1 Main St")
        _ = try vault.profile.set("phone", value: "+44 20 7946 0000")
        _ = try vault.vendors.add(name: "Acme Outdoor", site: "https://acme.example", stage: .expansion)
        _ = try vault.vendors.add(name: "Bolt Bikes", stage: .commitment)
        _ = try vault.vendors.add(name: Self.hostile, stage: .awareness)
        acme = try vault.grants.create(
            GrantRequest(
                vendorName: "Acme Outdoor", scopes: [.profileField("email"), .purchasesOwn], purpose: .delivery,
                expiresAt: Date().addingTimeInterval(30 * 86_400), maxUses: 5)
        ).grant
        bolt = try vault.grants.create(GrantRequest(vendorName: "Bolt Bikes", scopes: [.profilePrefix("address")], purpose: .delivery, expiresAt: nil)).grant
        ended = try vault.grants.create(GrantRequest(vendorName: "Acme Outdoor", scopes: [.vendor], purpose: .support, expiresAt: nil)).grant
        _ = try vault.grants.revoke(id: ended.id)
        _ = try vault.grants.create(GrantRequest(vendorName: Self.hostile, scopes: [.profileField("phone")], purpose: .marketing, expiresAt: nil))
        var purchases: [NewPurchase] = []
        for (month, price) in [("2026-07", "19.90"), ("2026-08", "120.00"), ("2026-10", "45.50"), ("2026-11", "8.25")] {
            purchases.append(
                NewPurchase(vendorName: "Bolt Bikes", item: "Part \(month)", date: CalendarDate(month + "-05"), price: try Money.parse(price, currency: "EUR")))
        }
        purchases.append(
            NewPurchase(vendorName: "Acme Outdoor", item: "Tent", date: CalendarDate("2026-09-01"), price: try Money.parse("300", currency: "USD")))
        _ = try vault.purchases.add(purchases)
        overdueCase = try vault.cases.open(
            NewCase(vendorName: "Bolt Bikes", subject: "Wheel wobbles", followUp: CalendarDate(Date().addingTimeInterval(-3 * 86_400))))
        laterCase = try vault.cases.open(
            NewCase(vendorName: "Acme Outdoor", subject: "Tent zip", followUp: CalendarDate(Date().addingTimeInterval(9 * 86_400))))
        let link = try vault.requests.link(vendor: "Cobalt", expiresIn: 3600, endpoint: "http://127.0.0.1:8080")
        let asking = try AskingVendor(link: link)
        let json = try asking.submission(asking.body(scopes: ["profile.email", "profile.phone"]))
        let (code, parts) = try JSONDecoder().decode(RequestSubmission.self, from: json).parsed()
        requestID = try VaultRequestInbox(database: vault.database).receive(code: code, body: parts, nowMillis: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// A running dashboard: its port, its one-time link, and the task that runs it.
    struct Running: Sendable {
        let port: Int
        let link: String
        let task: Task<DashboardStop, any Error>
        var origin: String { "http://127.0.0.1:\(port)" }
        var host: String { "127.0.0.1:\(port)" }
    }

    func start(idle: TimeInterval = 600) async throws -> Running {
        let dashboard = Dashboard(vault: vault, options: DashboardOptions(port: 0, idleTimeout: idle, stopOnSignals: false))
        let (links, continuation) = AsyncStream<[UInt8]>.makeStream()
        let task = Task { try await dashboard.run { link in continuation.yield(link) } }
        var iterator = links.makeAsyncIterator()
        guard let bytes = await iterator.next() else { throw Browser.Failure(description: "the dashboard did not start") }
        let link = String(decoding: bytes, as: UTF8.self)
        let port = Int(link.split(separator: ":")[2].prefix { $0.isNumber }) ?? 0
        return Running(port: port, link: link, task: task)
    }
}
