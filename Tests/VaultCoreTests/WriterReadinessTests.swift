import Foundation
import Synchronization
import Testing
@testable import VaultCore
import VaultCrypto
import VaultTestSupport

/// Readiness tells the truth about the writer: not ready while its transactions fail (a full
/// disk, a read-only file), ready again as soon as a write can commit — with or without
/// redemptions meanwhile.
@Suite struct WriterReadinessTests {
    /// The vault file's store, whose writes fail while `failing` is set, as on a full disk.
    final class FailingStore: RedemptionStore {
        let inner: SQLiteRedemptionStore
        let failing = Atomic<Bool>(false)
        let probes = Atomic<Int>(0)

        init(_ inner: SQLiteRedemptionStore) { self.inner = inner }

        var vaultID: [UInt8] { inner.vaultID }
        var vaultBoxPublicKey: [UInt8] { inner.vaultBoxPublicKey }

        func write<T>(_ body: (any RedemptionTransaction) throws -> T) throws -> T {
            guard !failing.load(ordering: .relaxed) else { throw VaultError.storage("the disk is full; nothing was changed") }
            return try inner.write(body)
        }

        func isReady() -> Bool { inner.isReady() }

        func canWrite() -> Bool {
            probes.add(1, ordering: .relaxed)
            return !failing.load(ordering: .relaxed) && inner.canWrite()
        }
    }

    /// A vault with one bearer grant (the directory lives as long as the caller keeps it).
    static func vaultWithGrant() throws -> (TemporaryDirectory, Vault, IssuedGrant) {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.vendors.add(name: "Acme")
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .delivery, expiresAt: nil))
        return (dir, vault, issued)
    }

    @Test func readinessFollowsTheWriterDownAndBackUp() throws {
        let (dir, vault, issued) = try Self.vaultWithGrant()
        let store = FailingStore(SQLiteRedemptionStore(database: vault.database))
        let redeemer = try Redeemer(store: store)
        let request = RedemptionRequest(token: issued.token.encoded()[...], client: "127.0.0.1", userAgent: "test", held: nil)
        defer { withExtendedLifetime(dir) {} }

        #expect(redeemer.isReady())
        #expect(store.probes.load(ordering: .relaxed) == 0, "a healthy writer is not probed")
        guard case .share = try redeemer.redeem(request) else { return #expect(Bool(false)) }

        store.failing.store(true, ordering: .relaxed)
        #expect(throws: VaultError.self) { try redeemer.redeem(request) }
        #expect(store.inner.isReady(), "reads still work")
        #expect(!redeemer.isReady(), "not ready while the writer cannot commit")
        #expect(!redeemer.isReady())

        store.failing.store(false, ordering: .relaxed)
        #expect(redeemer.isReady(), "ready again once a write commits, before any redemption")
        let probes = store.probes.load(ordering: .relaxed)
        #expect(redeemer.isReady())
        #expect(store.probes.load(ordering: .relaxed) == probes, "no probe once the writer is healthy")
        guard case .share = try redeemer.redeem(request) else { return #expect(Bool(false)) }
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == 2)
    }

    @Test func aSuccessfulRedemptionClearsTheFailure() throws {
        let (dir, vault, issued) = try Self.vaultWithGrant()
        let store = FailingStore(SQLiteRedemptionStore(database: vault.database))
        let redeemer = try Redeemer(store: store)
        let request = RedemptionRequest(token: issued.token.encoded()[...], client: "127.0.0.1", userAgent: "test", held: nil)
        defer { withExtendedLifetime(dir) {} }
        store.failing.store(true, ordering: .relaxed)
        _ = try? redeemer.redeem(request)
        store.failing.store(false, ordering: .relaxed)
        guard case .share = try redeemer.redeem(request) else { return #expect(Bool(false)) }
        #expect(redeemer.isReady())
        #expect(store.probes.load(ordering: .relaxed) == 0)
    }

    @Test func aProbeClearsOnlyTheFailureItStartedFrom() {
        let health = WriterHealth()
        #expect(health.failure() == nil)
        health.recordFailure()
        let probed = health.failure()
        #expect(probed != nil)
        health.recordFailure()  // the writer fails again while the probe writes
        #expect(!health.clear(probed ?? 0))
        #expect(health.failure() != nil)
        let again = health.failure()
        #expect(health.clear(again ?? 0))
        #expect(health.failure() == nil)
        health.recordFailure()
        health.recordSuccess()
        #expect(health.failure() == nil)
    }

    @Test func aDamagedGrantRowFailsOnlyItsOwnRedemption() throws {
        let (dir, vault, issued) = try Self.vaultWithGrant()
        defer { withExtendedLifetime(dir) {} }
        let other = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .support, expiresAt: nil))
        try rawExecute(dir.file("vault.db"), "UPDATE grants SET max_uses = 'ten' WHERE id = '\(other.grant.id)'")
        let redeemer = try Redeemer(database: vault.database)
        let results = redeemer.redeemBatch(
            [issued.token, other.token].map {
                RedemptionRequest(token: $0.encoded()[...], client: "127.0.0.1", userAgent: "test", held: nil)
            })
        guard case .success(.share) = results.first else { return #expect(Bool(false), "the sound grant was not served") }
        #expect(throws: VaultError.self) { try results.last?.get() }
        #expect(redeemer.health.failure() == nil, "a damaged row is that request's failure, not the writer's")
        #expect(redeemer.isReady())
        // Read raw: the CLI refuses the tampered vault as a whole (its records digest).
        #expect(try RawDatabase.open(dir.file("vault.db")).int("SELECT use_count FROM grants WHERE id = '\(issued.grant.id)'") == 1)
    }

    @Test func theProbeWritesToDiskButChangesNothing() throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        let before = try logicalDump(dir.file("vault.db"))
        vault.database.checkpoint()
        let wal = dir.file("vault.db-wal")
        let walBefore = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
        #expect(SQLiteRedemptionStore(database: vault.database).canWrite())
        #expect(try logicalDump(dir.file("vault.db")) == before)
        let walAfter = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
        #expect(walAfter > walBefore, "the probe committed a frame to the WAL")
    }
}
