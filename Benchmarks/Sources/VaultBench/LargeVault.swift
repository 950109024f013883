import Foundation
@_spi(Benchmark) import VaultCore
import VaultCrypto

/// Sizes of a generated personal-archive vault (Benchmarks/). Defaults: issue 6's scale.
struct LargeVaultShape {
    var vendors = 500
    var purchases = 100_000
    var cases = 2_000
    var grants = 10_000
    /// Active grants, each covering the whole profile; the rest are revoked.
    var activeGrants = 1_000
    /// Total share-history entries; redemptions of the active grants fill up to it.
    var auditEntries = 100_000
}

extension Vault {
    /// Fills an empty vault with synthetic but realistic records, through the same sealing,
    /// materialisation and audit code as the CLI and server (`BulkLoader`), in large
    /// transactions. Returns the tokens of the active grants.
    func generateLargeVault(_ shape: LargeVaultShape, progress: (String) -> Void = { _ in }) throws -> [GrantToken] {
        let profile = [
            "name": "Jo Example", "email": "jo@example.org", "phone": "+1 555 0100", "address.shipping": "12 Quokka Lane, Springfield",
            "address.billing": "PO Box 9, Springfield", "birthday": "1990-04-01", "size.shoe": "EU 42", "preference.contact": "email",
        ]
        for (key, value) in profile.sorted(by: { $0.key < $1.key }) { try self.profile.set(key, value: value) }
        let start = Date()
        let vendors: [Vendor] = try bulkLoad { loader in
            try (0..<shape.vendors).map { i in
                let v = Vendor(
                    id: Hex.encode(Random.bytes(16)), name: String(format: "Vendor %04d", i), site: "https://vendor\(i).example",
                    stage: RelationshipStage.allCases[i % 5], createdAt: start)
                try loader.add(v)
                return v
            }
        }
        progress("\(vendors.count) vendors")
        let currencies = ["EUR", "USD", "GBP"]
        var made = 0
        while made < shape.purchases {
            let chunk = min(10_000, shape.purchases - made)
            try bulkLoad { loader in
                for i in made..<(made + chunk) {
                    let vendor = vendors[i % vendors.count]
                    let date = CalendarDate(String(format: "%04d-%02d-%02d", 2015 + i % 11, 1 + i % 12, 1 + i % 28)) ?? CalendarDate(start)
                    try loader.add(
                        Purchase(
                            id: Random.identifier(prefix: "p_"), vendorID: vendor.id, item: "Item \(i)", date: date,
                            price: Money(minorUnits: Int64(100 + (i * 37) % 50_000), currency: currencies[i % 3]), orderNumber: "O-\(i)",
                            quantity: 1 + i % 3, giftFor: i % 17 == 0 ? "a friend" : nil,
                            annotations: PurchaseAnnotations(rating: i % 4 == 0 ? 1 + i % 5 : nil, returned: i % 29 == 0), createdAt: start))
                }
            }
            made += chunk
            progress("\(made) purchases")
        }
        try bulkLoad { loader in
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
                try loader.add(c)
            }
        }
        progress("\(shape.cases) cases")
        var tokens: [GrantToken] = []
        try bulkLoad { loader in
            for i in 0..<shape.grants {
                let vendor = vendors[i % vendors.count]
                let request = GrantRequest(vendorName: vendor.name, scopes: [.profile], purpose: .delivery, expiresAt: start.addingTimeInterval(365 * 86_400))
                let issued = try loader.issue(request, to: vendor, at: start)
                if i < shape.activeGrants {
                    tokens.append(issued.token)
                } else {
                    try loader.revoke(grantID: issued.id)
                }
            }
        }
        progress("\(shape.grants) grants (\(tokens.count) active)")
        let redeemer = try Redeemer(database: database)
        var entries = try bulkLoad { loader in try loader.auditEntryCount() }
        while entries < shape.auditEntries, !tokens.isEmpty {
            let batch = (0..<min(1000, shape.auditEntries - entries)).map { i in
                RedemptionRequest(token: tokens[(entries + i) % tokens.count].encoded()[...], client: "127.0.0.1", userAgent: "vrm-bench", held: nil)
            }
            for result in redeemer.redeemBatch(batch) { _ = try result.get() }
            entries += batch.count
        }
        progress("\(entries) audit entries")
        database.checkpoint()
        return tokens
    }
}
