import Testing
import VaultCore
import VaultTestSupport

@Suite struct ConcurrentRedemptionTests {
    /// K concurrent redemptions of an N-use grant: exactly N successes and N redeem entries.
    @Test(arguments: [(16, 5), (8, 1), (12, 12)])
    func exactlyTheUseLimitSucceedsUnderConcurrency(attempts: Int, limit: Int) async throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme")
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .support, expiresAt: nil, maxUses: limit))
        // A second connection pool, as a separate server process would have.
        let redeemer = try Redeemer(database: try VaultDatabase.open(path: dir.file("vault.db")))
        let text = issued.token.encoded()
        let outcomes = try await withThrowingTaskGroup(of: RedemptionOutcome.self) { group in
            for _ in 0..<attempts {
                group.addTask {
                    try redeemer.redeem(RedemptionRequest(token: text[...], client: "127.0.0.1", userAgent: nil, held: nil))
                }
            }
            return try await group.reduce(into: [RedemptionOutcome]()) { $0.append($1) }
        }
        let successes = outcomes.filter { if case .share = $0 { true } else { false } }.count
        #expect(successes == min(attempts, limit))
        #expect(outcomes.filter { $0 == .denied(.usedUp) }.count == attempts - min(attempts, limit))
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == min(attempts, limit))
        #expect(try vault.audit.entries().filter { $0.event == "share.redeemed" }.count == min(attempts, limit))
    }

    @Test func revokingWhileRedemptionsRunLeavesNoHalfState() async throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme")
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .support, expiresAt: nil))
        let redeemer = try Redeemer(database: try VaultDatabase.open(path: dir.file("vault.db")))
        let text = issued.token.encoded()
        let outcomes = try await withThrowingTaskGroup(of: RedemptionOutcome?.self) { group in
            for i in 0..<40 {
                group.addTask {
                    if i == 20 {
                        try vault.grants.revoke(id: issued.grant.id)
                        return nil
                    }
                    return try redeemer.redeem(RedemptionRequest(token: text[...], client: "127.0.0.1", userAgent: nil, held: nil))
                }
            }
            return try await group.reduce(into: [RedemptionOutcome]()) { if let o = $1 { $0.append(o) } }
        }
        let served = outcomes.filter { if case .share = $0 { true } else { false } }.count
        #expect(served + outcomes.filter { $0 == .denied(.revoked) }.count == 39)
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == served)
        let entries = try vault.audit.entries()
        #expect(entries.filter { $0.event == "share.redeemed" }.count == served)
        // Nothing was served after the revocation entry.
        let revokedAt = try #require(entries.first { $0.event == "grant.revoked" }?.seq)
        #expect(!entries.contains { $0.event == "share.redeemed" && $0.seq > revokedAt })
    }
}
