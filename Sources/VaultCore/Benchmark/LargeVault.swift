public import Foundation
import GRDB
public import VaultCrypto

/// Sizes of a generated personal-archive vault (Benchmarks/). Defaults: issue 6's scale.
public struct LargeVaultShape: Sendable {
    public var vendors = 500
    public var purchases = 100_000
    public var cases = 2_000
    public var grants = 10_000
    /// Active grants, each covering the whole profile; the rest are revoked.
    public var activeGrants = 1_000
    /// Total share-history entries; redemptions of the active grants fill up to it.
    public var auditEntries = 100_000

    public init() {}
}

@_spi(Benchmark)
extension Vault {
    /// Fills an empty vault with synthetic but realistic records, through the same sealing,
    /// materialisation and audit code as the CLI and server, in large transactions.
    /// Returns the tokens of the active grants.
    public func generateLargeVault(_ shape: LargeVaultShape, progress: (String) -> Void = { _ in }) throws -> [GrantToken] {
        let profile = ["name": "Jo Example", "email": "jo@example.org", "phone": "+1 555 0100", "address.shipping": "12 Quokka Lane, Springfield",
                       "address.billing": "PO Box 9, Springfield", "birthday": "1990-04-01", "size.shoe": "EU 42", "preference.contact": "email"]
        for (key, value) in profile.sorted(by: { $0.key < $1.key }) { try setProfile(key, value: value) }
        let start = now
        let vendors: [Vendor] = try database.write { db in
            try (0..<shape.vendors).map { i in
                let v = Vendor(id: newRowID(), name: String(format: "Vendor %04d", i), site: "https://vendor\(i).example", contact: nil,
                               publicKey: nil, stage: RelationshipStage.allCases[i % 5], notes: nil, createdAt: start, updatedAt: start)
                try insert(v, db)
                return v
            }
        }
        progress("\(vendors.count) vendors")
        let currencies = ["EUR", "USD", "GBP"]
        var made = 0
        while made < shape.purchases {
            let chunk = min(10_000, shape.purchases - made)
            try database.write { db in
                for i in made..<(made + chunk) {
                    let vendor = vendors[i % vendors.count]
                    let date = CalendarDate(String(format: "%04d-%02d-%02d", 2015 + i % 11, 1 + i % 12, 1 + i % 28)) ?? CalendarDate(start)
                    let purchase = Purchase(
                        id: Random.identifier(prefix: "p_"), vendorID: vendor.id, item: "Item \(i)", date: date,
                        price: Money(minorUnits: Int64(100 + (i * 37) % 50_000), currency: currencies[i % 3]), orderNumber: "O-\(i)",
                        quantity: 1 + i % 3, giftFor: i % 17 == 0 ? "a friend" : nil,
                        annotations: PurchaseAnnotations(rating: i % 4 == 0 ? 1 + i % 5 : nil, returned: i % 29 == 0), createdAt: start)
                    try insert(purchase, dedupe: Data(purchaseDedupeIndex(vendorID: vendor.id, order: "O-\(i)", item: purchase.item)), db)
                }
            }
            made += chunk
            progress("\(made) purchases")
        }
        try database.write { db in
            for i in 0..<shape.cases {
                let vendor = vendors[(i * 7) % vendors.count]
                let resolved = i % 3 != 0
                let opened = start.addingTimeInterval(-Double(i) * 3600)
                var c = SupportCase(
                    id: Random.identifier(prefix: "c_"), vendorID: vendor.id, subject: "Case \(i)", channel: CaseChannel.allCases[i % 6],
                    priority: CasePriority.allCases[i % 4], status: resolved ? .resolved : .open, followUp: nil, reference: "T-\(i)",
                    openedAt: opened, resolvedAt: resolved ? opened.addingTimeInterval(Double(1 + i % 9) * 86_400) : nil,
                    timeline: [CaseInteraction(at: opened, kind: .opened, channel: .email, text: nil)])
                if resolved, let at = c.resolvedAt { c.timeline.append(CaseInteraction(at: at, kind: .resolved, channel: nil, text: "done")) }
                try insert(c, db)
            }
        }
        progress("\(shape.cases) cases")
        var tokens: [GrantToken] = []
        try database.write { db in
            for i in 0..<shape.grants {
                let vendor = vendors[i % vendors.count]
                let token = try GrantToken.generate()
                let id = Random.identifier(prefix: "gr_")
                let request = GrantRequest(vendorName: vendor.name, scopes: [.profile], purpose: .delivery, expiresAt: start.addingTimeInterval(365 * 86_400))
                try insertGrant(id: id, token: token, vendor: vendor, scopes: [.profile], request: request, now: start, db)
                if i < shape.activeGrants {
                    tokens.append(token)
                } else {
                    try revoke(try grant(id: id, db), db)
                }
            }
        }
        progress("\(shape.grants) grants (\(tokens.count) active)")
        let redeemer = try Redeemer(database: database, clock: clock)
        var entries = try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit") ?? 0 }
        while entries < shape.auditEntries, !tokens.isEmpty {
            let batch = (0..<min(1000, shape.auditEntries - entries)).map { i in
                RedemptionRequest(token: tokens[(entries + i) % tokens.count].encoded()[...], client: "127.0.0.1", userAgent: "vrm-bench", ifNoneMatch: nil)
            }
            for result in redeemer.redeemBatch(batch) { _ = try result.get() }
            entries += batch.count
        }
        progress("\(entries) audit entries")
        database.checkpoint()
        return tokens
    }
}

@_spi(Benchmark)
extension Vault {
    /// Seconds spent fetching, decrypting and decoding every purchase (for profiling reads).
    public func purchaseReadBreakdown() throws -> (fetch: Double, open: Double, decode: Double, count: Int) {
        try database.read { db in
            let clock = ContinuousClock()
            func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
            var t = clock.now
            let rows = try Row.fetchAll(db, sql: "SELECT id, sealed FROM purchases")
            let fetch = seconds(clock.now - t)
            t = clock.now
            let plains = try rows.map { row -> [UInt8] in
                let id: String = row["id"]
                return try keys.open(row.bytes("sealed"), table: "purchases", id: id, field: "record")
            }
            let open = seconds(clock.now - t)
            t = clock.now
            for plain in plains { _ = try Self.decodeRecord(Purchase.self, plain) }
            return (fetch, open, seconds(clock.now - t), rows.count)
        }
    }
}
