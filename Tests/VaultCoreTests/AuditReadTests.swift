import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport

@Suite struct AuditReadTests {
    @Test func aLongHistoryReadsInOrderAcrossChunksAndFiltersTheSame() throws {
        // More entries than one chunk (4,096) of the pipelined read: chunks are decrypted on
        // different threads and must come back in sequence order.
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        // Four vendors with two grants each, one of them revoked; redemptions of the active
        // grants fill the history past 9,000 entries.
        var tokens: [GrantToken] = []
        for i in 0..<4 {
            let name = "Vendor 000\(i)"
            try vault.vendors.add(name: name)
            for j in 0..<2 {
                let issued = try vault.grants.create(GrantRequest(vendorName: name, scopes: [.profile], purpose: .delivery, expiresAt: nil))
                if j == 0 { tokens.append(issued.token) } else { try vault.grants.revoke(id: issued.grant.id) }
            }
        }
        let redeemer = try Redeemer(database: vault.database)
        var entries = try vault.audit.entries().count
        while entries < 9_000 {
            let batch = (0..<min(1000, 9_000 - entries)).map { i in
                RedemptionRequest(token: tokens[(entries + i) % tokens.count].encoded()[...], client: "127.0.0.1", userAgent: "test", held: nil)
            }
            for result in redeemer.redeemBatch(batch) { _ = try result.get() }
            entries += batch.count
        }
        let all = try vault.audit.entries()
        #expect(all.count >= 9_000)
        #expect(all.map(\.seq) == Array(1...Int64(all.count)))
        let vendor = try #require(try vault.vendors.all().first { $0.name == "Vendor 0001" })
        let mine = try vault.audit.entries(AuditFilter(vendorName: vendor.name))
        #expect(mine.count > 1_000)
        #expect(mine == all.filter { $0.body.vendorID == vendor.id })
        let cut = all[all.count / 2].at
        #expect(try vault.audit.entries(AuditFilter(since: cut)) == all.filter { $0.at >= cut })
        guard case .intact(let entries, _) = try AuditVerifier.verify(vault.database, checkpoint: nil) else { return #expect(Bool(false)) }
        #expect(entries == Int64(all.count))
    }
}
