import Foundation
import Testing
@testable import VaultCore
import VaultTestSupport

/// The grant-state rule is written once in Swift (`GrantState.evaluate`) and once in SQL
/// (`GrantStateSQL`, used to select grants to re-materialise, to purge shares and to guard the
/// redemption's use count). Each case is stored as a real `grants` row and evaluated both ways;
/// changing either side alone makes a case fail.
@Suite struct GrantStateRuleTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let revokedAt: Int64?
        let expiresAt: Int64?
        let maxUses: Int?
        let useCount: Int
        let expected: GrantState
        var testDescription: String { name }
    }

    static let now: Int64 = 1_800_000_000_000

    static let cases: [Case] = [
        Case(name: "no limits", revokedAt: nil, expiresAt: nil, maxUses: nil, useCount: 0, expected: .active),
        Case(name: "many uses, no limit", revokedAt: nil, expiresAt: nil, maxUses: nil, useCount: 1_000_000, expected: .active),
        Case(name: "expires a millisecond from now", revokedAt: nil, expiresAt: now + 1, maxUses: nil, useCount: 0, expected: .active),
        Case(name: "expires exactly now", revokedAt: nil, expiresAt: now, maxUses: nil, useCount: 0, expected: .expired),
        Case(name: "expired long ago", revokedAt: nil, expiresAt: 1, maxUses: nil, useCount: 0, expected: .expired),
        Case(name: "one use left", revokedAt: nil, expiresAt: nil, maxUses: 3, useCount: 2, expected: .active),
        Case(name: "uses exactly at the limit", revokedAt: nil, expiresAt: nil, maxUses: 3, useCount: 3, expected: .usedUp),
        Case(name: "uses past the limit", revokedAt: nil, expiresAt: nil, maxUses: 3, useCount: 4, expected: .usedUp),
        Case(name: "a limit of zero", revokedAt: nil, expiresAt: nil, maxUses: 0, useCount: 0, expected: .usedUp),
        Case(name: "revoked", revokedAt: now - 5, expiresAt: nil, maxUses: nil, useCount: 0, expected: .revoked),
        Case(name: "revoked in the future still counts", revokedAt: now + 5, expiresAt: nil, maxUses: nil, useCount: 0, expected: .revoked),
        Case(name: "revoked wins over expired", revokedAt: now - 5, expiresAt: now - 1, maxUses: nil, useCount: 0, expected: .revoked),
        Case(name: "revoked wins over used up", revokedAt: now - 5, expiresAt: nil, maxUses: 1, useCount: 1, expected: .revoked),
        Case(name: "expired wins over used up", revokedAt: nil, expiresAt: now, maxUses: 1, useCount: 1, expected: .expired),
        Case(name: "expiring later, uses left", revokedAt: nil, expiresAt: now + 86_400_000, maxUses: 10, useCount: 9, expected: .active),
    ]

    @Test(arguments: cases)
    func swiftAndSQLAgree(_ c: Case) throws {
        #expect(
            GrantState.evaluate(
                revokedAt: c.revokedAt, expiresAt: c.expiresAt, maxUses: c.maxUses, useCount: c.useCount,
                nowMillis: Self.now) == c.expected)

        let (dir, vault) = try Self.vault(with: c)
        defer { withExtendedLifetime(dir) {} }
        let (states, active) = try vault.database.read { transaction in
            (try transaction.grants.states(nowMillis: Self.now), try transaction.grants.active(nowMillis: Self.now).map(\.id))
        }
        #expect(states["gr_case"] == c.expected, "the SQL CASE expression")
        #expect(active == (c.expected == .active ? ["gr_case"] : []), "the SQL active predicate")
        // The record decoded by the one grant-row decoder evaluates the same.
        let record = try #require(try vault.database.read { try $0.grants.record(id: "gr_case") })
        #expect(record.state(nowMillis: Self.now) == c.expected)

        // The redemption's guarded count counts a use exactly when the grant is active.
        let store = SQLiteRedemptionStore(database: vault.database)
        let counted = try store.write { transaction in
            let grant = try #require(try transaction.redeemableGrant(selector: [0x01]))
            #expect(grant.state(nowMillis: Self.now) == c.expected)
            return try transaction.countUses(1, of: grant.key, nowMillis: Self.now, version: 0)
        }
        #expect(counted == (c.expected == .active), "the guarded count")
    }

    /// Counting several uses at once (the writer's count-ahead): they fit exactly when the
    /// grant would still be active after all but the last of them.
    @Test(arguments: cases, [2, 3])
    func severalUsesFitExactlyWhenTheRuleSaysSo(_ c: Case, _ uses: Int) throws {
        let fits =
            GrantState.evaluate(
                revokedAt: c.revokedAt, expiresAt: c.expiresAt, maxUses: c.maxUses, useCount: c.useCount + uses - 1,
                nowMillis: Self.now) == .active
        let (dir, vault) = try Self.vault(with: c)
        defer { withExtendedLifetime(dir) {} }
        let counted = try SQLiteRedemptionStore(database: vault.database).write { transaction in
            let grant = try #require(try transaction.redeemableGrant(selector: [0x01]))
            return try transaction.countUses(uses, of: grant.key, nowMillis: Self.now, version: 0)
        }
        #expect(counted == fits)
    }

    /// Purging: a grant's share and share key go exactly when it is not active.
    @Test(arguments: cases)
    func sharesArePurgedExactlyWhenTheGrantIsNotActive(_ c: Case) throws {
        let (dir, vault) = try Self.vault(with: c)
        defer { withExtendedLifetime(dir) {} }
        try rawExecute(dir.file("vault.db"), "INSERT INTO shares (grant_id, version, body, updated_at) VALUES ('gr_case', 0, x'04', 0)")
        try rawExecute(dir.file("vault.db"), "UPDATE grants SET share_key_sealed = x'05' WHERE id = 'gr_case'")
        try vault.database.write { try $0.grants.purgeInactiveShares(nowMillis: Self.now) }
        let raw = try RawDatabase.open(dir.file("vault.db"))
        let kept = c.expected == .active ? 1 : 0
        #expect(try raw.int("SELECT count(*) FROM shares") == kept)
        #expect(try raw.int("SELECT count(*) FROM grants WHERE share_key_sealed IS NOT NULL") == kept)
    }

    /// A vault holding the case as its one grant row (selector `x'01'`).
    static func vault(with c: Case) throws -> (TemporaryDirectory, Vault) {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        func sql(_ value: (some CustomStringConvertible)?) -> String { value.map(\.description) ?? "NULL" }
        try rawExecute(
            dir.file("vault.db"),
            """
            INSERT INTO grants (id, selector, secret_hash, binding, created_at, expires_at, max_uses, use_count, revoked_at, share_version, sealed)
            VALUES ('gr_case', x'01', x'02', 'bearer', 0, \(sql(c.expiresAt)), \(sql(c.maxUses)), \(c.useCount), \(sql(c.revokedAt)), 0, x'03')
            """)
        return (dir, vault)
    }
}
