import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport

/// A vault written by the format-1 build (commit 15e650f, `Tests/Fixtures/format1`) opens with
/// today's code, which moves it to format 2 on the first unlock: every record, grant, share and
/// history entry is still there, the CLI's entries are authenticated, and shares still redeem.
@Suite struct FormatMigrationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/format1")

    static func file(_ name: String) throws -> String {
        let path = fixture.appendingPathComponent(name).path
        guard let data = FileManager.default.contents(atPath: path) else { throw VaultError.noVault(path: path) }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A copy of the fixture (the committed file is never opened read-write).
    static func copy(into dir: TemporaryDirectory) throws -> String {
        let path = dir.file("vault.db")
        try FileManager.default.copyItem(atPath: fixture.appendingPathComponent("vault.db").path, toPath: path)
        return path
    }

    static func passphrase() throws -> SecretKey { try testPassphrase(try file("passphrase")) }

    static func token(_ name: String) throws -> GrantToken { try GrantToken.parse(try file(name)) }

    @Test func theCommittedFixtureIsFormat1() throws {
        let dir = TemporaryDirectory()
        let database = try VaultDatabase.open(path: try Self.copy(into: dir))
        #expect(database.header.formatVersion == 1)
        #expect(database.header.mac == nil)
    }

    @Test func aFormat1VaultIsMigratedOnFirstUnlockAndKeepsEverything() throws {
        let dir = TemporaryDirectory()
        let path = try Self.copy(into: dir)
        let store = AuditCheckpointStore(directory: dir.file("state"))
        let vault = try Vault.unlock(path: path, passphrase: try Self.passphrase(), checkpoints: store)
        #expect(try VaultDatabase.open(path: path).header.formatVersion == 2)

        #expect(try vault.profile.value("email") == "ana@new.example.org")
        #expect(try vault.profile.value("address.shipping") == "1 Main St, Springfield")
        #expect(try vault.vendors.all().map(\.name) == ["Acme Outdoor", "Bolt Bikes"])
        let purchases = try vault.purchases.list()
        #expect(purchases.map(\.item).sorted() == ["Bike lamp", "Trail shoes"])
        #expect(purchases.first { $0.item == "Trail shoes" }?.annotations.rating == 4)
        #expect(try vault.cases.list().count == 2)

        let grants = try vault.grants.list()
        #expect(grants.count == 3)
        #expect(grants.filter { $0.state(at: Date()) == .revoked }.map(\.purpose) == [.marketing])
        #expect(grants.filter { $0.state(at: Date()) == .active }.count == 2)

        // The history: the fixture's ten entries, then the migration and the two rebuilt shares.
        let entries = try vault.audit.entries()
        #expect(entries.count == 13)
        #expect(
            entries.prefix(10).map(\.event) == [
                "grant.issued", "grant.issued", "grant.issued", "share.redeemed", "share.redeemed", "share.redeemed", "share.denied",
                "grant.revoked", "share.denied", "share.rematerialised",
            ])
        #expect(entries[10].event == "vault.migrated")
        #expect(entries.suffix(2).map(\.event) == ["share.rematerialised", "share.rematerialised"])
        #expect(entries.allSatisfy { $0.authenticated == (AuditEvent(rawValue: $0.event)?.writtenByCLI == true) })
        guard case .intact(let count, _) = try vault.audit.verify().result else { return #expect(Bool(false)) }
        #expect(count == 13)
        #expect(try store.load(keys: vault.keys)?.seq == 13)

        // A second unlock does not migrate again.
        let again = try Vault.unlock(path: path, passphrase: try Self.passphrase(), checkpoints: store)
        #expect(try again.audit.entries().count == 13)
    }

    @Test func sharesOfTheMigratedVaultRedeemAndNameTheVendorKey() throws {
        let dir = TemporaryDirectory()
        let path = try Self.copy(into: dir)
        _ = try Vault.unlock(path: path, passphrase: try Self.passphrase())
        let redeemer = try Redeemer(database: try VaultDatabase.open(path: path))

        let bearer = try vendorOpens(try redeem(redeemer, try Self.token("token-bolt-bearer")))
        #expect(bearer.data.profile == ["address.shipping": "1 Main St, Springfield"])
        #expect(bearer.data.purchases?.map(\.item) == ["Bike lamp"])
        #expect(bearer.vendorKey == nil)
        #expect(bearer.version == 2)

        var keyFile = Array(try Data(contentsOf: Self.fixture.appendingPathComponent("acme-vendor.key")))
        defer { Wipe.bytes(&keyFile) }
        let acme = try VendorKeyText.decodeSecret(keyFile)
        let keyBound = try vendorOpens(try redeem(redeemer, try Self.token("token-acme-keybound")), keyPair: acme)
        #expect(keyBound.vendorKey == VendorKeyText.encodePublic(acme.publicKey))
        #expect(keyBound.data.purchases?.map(\.item) == ["Trail shoes"])
        #expect(keyBound.data.cases?.map(\.subject) == ["Sole came off"])

        guard case .denied(.revoked) = try redeem(redeemer, try Self.token("token-bolt-revoked")) else {
            return #expect(Bool(false), "the revoked grant must stay revoked")
        }
    }

    @Test func aRevocationTheHistoryRecordsSurvivesAClearedColumn() throws {
        // Before the first unlock, someone clears the revoked grant's revoked_at: the history's
        // grant.revoked entry keeps it revoked through the migration.
        let dir = TemporaryDirectory()
        let path = try Self.copy(into: dir)
        try rawExecute(path, "UPDATE grants SET revoked_at = NULL")
        let vault = try Vault.unlock(path: path, passphrase: try Self.passphrase())
        #expect(try vault.grants.list().filter { $0.state(at: Date()) == .revoked }.map(\.purpose) == [.marketing])
    }

    @Test func theFormat1CheckpointIsCheckedAndReplaced() throws {
        let dir = TemporaryDirectory()
        let path = try Self.copy(into: dir)
        let store = AuditCheckpointStore(directory: dir.file("state"))
        let database = try VaultDatabase.open(path: path)
        let vaultIDHex = Hex.encode(database.header.vaultID)
        // A format-1 checkpoint that the history does not contain: the migration refuses.
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        let legacy = dir.file("state/\(vaultIDHex)")
        try Data("10 \(String(repeating: "ab", count: 32))\n".utf8).write(to: URL(fileURLWithPath: legacy))
        #expect(throws: VaultError.self) { try Vault.unlock(database: database, passphrase: try Self.passphrase(), checkpoints: store) }
        #expect(try VaultDatabase.open(path: path).header.formatVersion == 1)
        // The true one: the migration goes through, and the keyed checkpoint replaces it.
        let hash = try #require(try RawDatabase.open(path).strings("SELECT hex(hash) FROM audit WHERE seq = 10").first)
        try Data("10 \(hash.lowercased())\n".utf8).write(to: URL(fileURLWithPath: legacy))
        let vault = try Vault.unlock(database: database, passphrase: try Self.passphrase(), checkpoints: store)
        #expect(!FileManager.default.fileExists(atPath: legacy))
        #expect(try store.load(keys: vault.keys)?.seq == 13)
    }
}
