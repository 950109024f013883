import Foundation
import Testing
@testable import VaultCLI
import VaultCore
import VaultCrypto
import VaultTestSupport

@Suite(.serialized) struct SessionIdleTimeoutTests {
    @Test func aSessionEndsAfterItsIdleTimeAndEachUseMovesTheClockOn() throws {
        let dir = TemporaryDirectory()
        let runtime = dir.file("run")
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        setenv("XDG_RUNTIME_DIR", runtime, 1)
        defer { unsetenv("XDG_RUNTIME_DIR") }
        let passphrase = try SecretKey(copying: UnsafeRawBufferPointer(start: "a long passphrase", count: 17))
        let vault = try Vault.create(path: dir.file("v.db"), passphrase: passphrase, kdf: .interactive)
        let master = try Vault.unwrapMasterKey(database: vault.database, passphrase: passphrase)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let (id, key) = try Session.start(database: vault.database, master: master, idleTimeout: 60, now: start)
        setenv(Session.variable, id + "." + Base64URL.encode(key.exposedCopy()), 1)
        Session.takeFromEnvironment()
        #expect(getenv(Session.variable) == nil)
        func outcome(after seconds: TimeInterval) throws -> String {
            switch try Session.unlock(database: vault.database, now: start.addingTimeInterval(seconds)) {
            case .unlocked: "unlocked"
            case .none: "none"
            case .ended(let ended): ended.reason
            }
        }
        #expect(try outcome(after: 50) == "unlocked")
        #expect(try outcome(after: 100) == "unlocked")  // 50 s after the last use
        #expect(try outcome(after: 161).contains("the session has ended"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime + "/vrm").filter { $0.hasPrefix("session-") }.isEmpty)
    }
}

@Suite struct TableAndNameTests {
    @Test func aTableFitsTheWidthByCuttingOnlyFreeText() {
        let rows = [["gr_abcdefghijklmnop", "Acme Outdoor Supplies Limited", "2026-12-31T00:00:00Z", String(repeating: "profile.address.*,", count: 6)]]
        let text = Terminal.table(["ID", "VENDOR", "EXPIRES", "SCOPES"], rows, width: 100)
        for line in text.split(separator: "\n") { #expect(line.count <= 100, "\(line)") }
        #expect(text.contains("gr_abcdefghijklmnop"))
        #expect(text.contains("Acme Outdoor Supplies Limited"))
        #expect(text.contains("2026-12-31T00:00:00Z"))
        #expect(text.contains("profile.address.*,profile…"))
        // Narrower than the columns that are never cut: free text keeps 8 characters, the line runs over.
        let narrow = Terminal.table(["ID", "VENDOR", "EXPIRES", "SCOPES"], rows, width: 40)
        #expect(narrow.contains("Acme Outdoor Supplies Limited  2026-12-31T00:00:00Z  profile…"))
        // Without a width (piped), nothing is cut.
        #expect(!Terminal.table(["ID", "SCOPES"], rows.map { [$0[0], $0[3]] }, width: nil).contains("…") || Terminal.stdoutIsTTY)
    }

    @Test func nearNamesFindTyposAndPartialNames() {
        #expect(NearNames.suggest("vendr", among: ["vendor", "grant", "serve"]) == ["vendor"])
        #expect(NearNames.suggest("Acme", among: ["Acme Outdoor", "Bolt Bikes"]) == ["Acme Outdoor"])
        #expect(NearNames.suggest("gnart", among: ["grant"]) == [])
        #expect(NearNames.suggest("lsit", among: ["list", "show"]) == ["list"])
        #expect(NearNames.suggest("", among: ["list"]) == [])
    }

    @Test func passphraseStrengthNamesTheWeakness() throws {
        func weakness(_ text: String) throws -> String? {
            PassphraseStrength.weakness(try SecretKey(copying: UnsafeRawBufferPointer(start: text, count: text.utf8.count)))
        }
        #expect(try weakness("short")?.contains("shorter") == true)
        #expect(try weakness("QWERTYUIOP")?.contains("common") == true)
        #expect(try weakness("ababababababab")?.contains("few different") == true)
        #expect(try weakness("tangerine otter velvet ladder") == nil)
        #expect(try weakness("Password123!")?.contains("common word") == true)
        #expect(try weakness("12345678901")?.contains("no letters") == true)
        #expect(try weakness("пароль-кот-дом") == nil)
    }
}
