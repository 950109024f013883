import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport

@Suite struct VaultFileTests {
    let dir = TemporaryDirectory()

    @Test func aCreatedVaultUnlocksWithItsPassphrase() throws {
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        let again = try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase())
        #expect(try again.profile.value("email") == "jo@example.org")
        #expect(again.keys.vaultID == vault.keys.vaultID)
    }

    @Test func backgroundCheckpointsCopyTheWALIntoTheFileWhileCommitsGoOn() throws {
        let vault = try makeVault(in: dir)
        let file = dir.file("vault.db")
        // A limit far above the number of commits: the writer's own checkpoint never runs,
        // and in WAL mode nothing else writes the main file but a checkpoint.
        try vault.database.checkpointInBackground(pages: 8, limit: 100_000)
        #expect(throws: VaultError.self) { try vault.database.checkpointInBackground(pages: 8, limit: 32) }
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        for i in 0..<100 { try vault.profile.set("email", value: "jo\(i)@example.org") }
        let deadline = ContinuousClock.now + .seconds(10)
        while try Data(contentsOf: URL(fileURLWithPath: file)) == before, ContinuousClock.now < deadline {
            usleep(10_000)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) != before)
        let again = try Vault.unlock(path: file, passphrase: try testPassphrase())
        #expect(try again.profile.value("email") == "jo99@example.org")
    }

    @Test func withBackgroundCheckpointsTheWALStaysNearItsLimitAndLosesNothing() throws {
        let vault = try makeVault(in: dir)
        try vault.database.checkpointInBackground(pages: 8, limit: 32)
        let commits = 600
        for i in 0..<commits { try vault.profile.set("email", value: "jo\(i)@example.org") }
        // Every commit appends at least one page to the WAL; a WAL that holds far fewer pages
        // than there were commits was checkpointed and restarted from its start, over and over.
        let walBytes = try FileManager.default.attributesOfItem(atPath: dir.file("vault.db-wal"))[.size] as? Int ?? 0
        let walPages = (walBytes - 32) / (4096 + 24)
        #expect(walPages > 0)
        #expect(walPages < commits / 2)
        let again = try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase())
        #expect(try again.profile.value("email") == "jo\(commits - 1)@example.org")
    }

    @Test func theFileIsPrivate() throws {
        _ = try makeVault(in: dir)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.file("vault.db"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func aWrongPassphraseIsToldApartAndChangesNothing() throws {
        _ = try makeVault(in: dir)
        let before = try logicalDump(dir.file("vault.db"))
        #expect(throws: VaultError.wrongPassphrase) {
            try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase("wrong"))
        }
        #expect(try logicalDump(dir.file("vault.db")) == before)
    }

    @Test func anExistingVaultIsNeverOverwritten() throws {
        let vault = try makeVault(in: dir)
        try vault.profile.set("name", value: "Jo")
        #expect(throws: VaultError.vaultExists(path: dir.file("vault.db"))) { try makeVault(in: dir) }
        #expect(try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase()).profile.value("name") == "Jo")
        try Data("not a vault".utf8).write(to: URL(fileURLWithPath: dir.file("other.db")))
        #expect(throws: VaultError.vaultExists(path: dir.file("other.db"))) { try makeVault(in: dir, name: "other.db") }
        #expect(FileManager.default.contents(atPath: dir.file("other.db")) == Data("not a vault".utf8))
    }

    @Test func anEmptyPassphraseIsRefused() throws {
        #expect(throws: VaultError.self) {
            try Vault.create(path: dir.file("v.db"), passphrase: try testPassphrase("   "), kdf: .minimumForTests)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("v.db")))
    }

    @Test func aMissingFileIsNoVault() {
        #expect(throws: VaultError.noVault(path: dir.file("none.db"))) { try VaultDatabase.open(path: dir.file("none.db")) }
    }

    /// Header columns whose damage must read as corruption, never as a wrong passphrase.
    @Test(arguments: ["salt", "wrapped_key", "checksum", "vault_id", "box_public_key", "sign_secret_sealed"])
    func aFlippedHeaderByteIsCorruptionNotAWrongPassphrase(column: String) throws {
        _ = try makeVault(in: dir)
        try flipFirstByte(of: column)
        #expect(throws: VaultError.corrupt("header checksum mismatch")) {
            try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase())
        }
    }

    func flipFirstByte(of column: String) throws {
        let raw = try RawDatabase.open(dir.file("vault.db"))
        guard let hex = try raw.strings("SELECT hex(\(column)) FROM vault_header").first, var bytes = Hex.decode(hex) else {
            Issue.record("no header")
            return
        }
        bytes[0] ^= 1
        try raw.execute("UPDATE vault_header SET \(column) = x'\(Hex.encode(bytes))'")
    }

    @Test func absurdKDFParametersInTheHeaderAreRejectedBeforeHashing() throws {
        _ = try makeVault(in: dir)
        // Rewrite memlimit to 1 TiB with a valid checksum, as an attacker with the file could.
        let database = try VaultDatabase.open(path: dir.file("vault.db"))
        var header = database.header
        header.kdf = KDFParameters(opsLimit: 4, memLimit: 1 << 40)
        let checksum = header.computeChecksum()
        try rawExecute(dir.file("vault.db"), "UPDATE vault_header SET kdf_ops = 4, kdf_mem = \(1 << 40), checksum = x'\(Hex.encode(checksum))'")
        #expect(throws: VaultError.corrupt("key-derivation parameters in the header are out of range")) {
            try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase())
        }
    }

    @Test func emptyTruncatedAndForeignFilesAreCorrupt() throws {
        let empty = dir.file("empty.db")
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: VaultError.corrupt("the file is empty")) { try VaultDatabase.open(path: empty) }

        let text = dir.file("text.db")
        FileManager.default.createFile(atPath: text, contents: Data(repeating: 0x41, count: 4096))
        #expect(throws: VaultError.corrupt("not an SQLite database")) { try VaultDatabase.open(path: text) }

        _ = try makeVault(in: dir)
        let whole = try Data(contentsOf: URL(fileURLWithPath: dir.file("vault.db")))
        let truncated = dir.file("truncated.db")
        FileManager.default.createFile(atPath: truncated, contents: whole.prefix(100))
        #expect(throws: VaultError.self) { try VaultDatabase.open(path: truncated) }
        let half = dir.file("half.db")
        FileManager.default.createFile(atPath: half, contents: whole.prefix(whole.count / 2))
        #expect(throws: VaultError.self) { try Vault.unlock(path: half, passphrase: try testPassphrase()) }
    }

    @Test func aForeignSQLiteFileIsCorruptAndLeftUntouched() throws {
        let foreign = dir.file("foreign.db")
        try rawExecute(foreign, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello')")
        let before = FileManager.default.contents(atPath: foreign)
        #expect(throws: VaultError.corrupt("not a VRM vault (no vault header)")) { try VaultDatabase.open(path: foreign) }
        #expect(FileManager.default.contents(atPath: foreign) == before)
        #expect(!FileManager.default.fileExists(atPath: foreign + "-wal"))
    }

    @Test func aVaultFromANewerVersionIsRefused() throws {
        _ = try makeVault(in: dir)
        try rawExecute(dir.file("vault.db"), "UPDATE vault_header SET format_version = 99")
        #expect(throws: VaultError.corrupt("written by a newer vrm (format 99; this build reads up to 2)")) {
            try VaultDatabase.open(path: dir.file("vault.db"))
        }
    }

    @Test func aCiphertextCopiedOntoAnotherRowFailsAsTamperedWhileOthersRead() throws {
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.profile.set("phone", value: "+1 555 0100")
        try vault.vendors.add(name: "Acme")
        let raw = try RawDatabase.open(dir.file("vault.db"))
        let ids = try raw.strings("SELECT id FROM profile ORDER BY id")
        // Copy one profile row's ciphertext onto the other: same key, different row identity.
        try raw.execute("UPDATE profile SET sealed = (SELECT sealed FROM profile WHERE id = '\(ids[1])') WHERE id = '\(ids[0])'")
        let reopened = try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase())
        var tampered = 0
        var read: [String] = []
        for key in ["email", "phone"] {
            do {
                if let value = try reopened.profile.value(key) { read.append(value) }
            } catch VaultError.tampered(let table, let id) {
                #expect(table == "profile" && id == ids[0])
                tampered += 1
            }
        }
        #expect(tampered == 1)
        #expect(read.count == 1)
        #expect(throws: VaultError.tampered(table: "profile", id: ids[0])) { try reopened.profile.all() }
        // A vendor ciphertext moved into the profile fails too; the vendor itself still reads.
        try raw.execute("UPDATE profile SET sealed = (SELECT sealed FROM vendors LIMIT 1) WHERE id = '\(ids[1])'")
        #expect {
            try reopened.profile.all()
        } throws: { error in
            if case VaultError.tampered(table: "profile", _) = error { true } else { false }
        }
        #expect(try reopened.vendors.all().map(\.name) == ["Acme"])
    }

    @Test func changingThePassphraseKeepsEveryRecordReadable() throws {
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme")
        try vault.changePassphrase(current: try testPassphrase(), new: try testPassphrase("new one"))
        #expect(throws: VaultError.wrongPassphrase) { try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase()) }
        let reopened = try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase("new one"))
        #expect(try reopened.profile.value("email") == "jo@example.org")
        #expect(try reopened.vendors.all().count == 1)
    }

    @Test func noPersonalValueAppearsInTheRawFile() throws {
        let vault = try makeVault(in: dir)
        let secrets = ["zebra-quokka@example.org", "Wombat Street 77", "Xylophone Outfitters", "shipping-notes-KV93"]
        try vault.profile.set("email", value: secrets[0])
        try vault.profile.set("address.shipping", value: secrets[1])
        try vault.vendors.add(name: secrets[2], contact: secrets[3])
        let issued = try vault.grants.create(
            GrantRequest(
                vendorName: secrets[2], scopes: [.profileField("email"), .profilePrefix("address")],
                purpose: .marketing, expiresAt: nil))
        for needle in secrets + ["address.shipping", "profile.email", "profile.address.*", "marketing", issued.token.encoded()] {
            #expect(!rawVaultContains(dir.file("vault.db"), needle), "\(needle) found in the vault file")
        }
    }
}
