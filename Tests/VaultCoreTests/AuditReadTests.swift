import Foundation
import Testing
@_spi(Benchmark) import VaultCore
import VaultTestSupport

@Suite struct AuditReadTests {
    @Test func aLongHistoryReadsInOrderAcrossChunksAndFiltersTheSame() throws {
        // More entries than one chunk (4,096) of the pipelined read: chunks are decrypted on
        // different threads and must come back in sequence order.
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        var shape = LargeVaultShape()
        shape.vendors = 4
        shape.purchases = 40
        shape.cases = 4
        shape.grants = 8
        shape.activeGrants = 4
        shape.auditEntries = 9_000
        _ = try vault.generateLargeVault(shape)
        let all = try vault.auditEntries()
        #expect(all.count >= 9_000)
        #expect(all.map(\.seq) == Array(1...Int64(all.count)))
        let vendor = try #require(try vault.vendors().first { $0.name == "Vendor 0001" })
        let mine = try vault.auditEntries(AuditFilter(vendorName: vendor.name))
        #expect(mine.count > 1_000)
        #expect(mine == all.filter { $0.body.vendorID == vendor.id })
        let cut = all[all.count / 2].at
        #expect(try vault.auditEntries(AuditFilter(since: cut)) == all.filter { $0.at >= cut })
        guard case .intact(let entries, _) = try AuditVerifier.verify(vault.database, checkpoint: nil) else { return #expect(Bool(false)) }
        #expect(entries == Int64(all.count))
    }
}
