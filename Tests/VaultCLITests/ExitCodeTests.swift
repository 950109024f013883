import Foundation
import Testing
import VaultCrypto
import VaultTestSupport

@Suite struct ExitCodeTests {
    @Test func initRefusesToOverwriteAndLeavesTheVaultUntouched() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try cli.run(["profile", "set", "email", "jo@example.org"], env: env)
        let before = try logicalDump(cli.vault)
        let again = try cli.run(["init"], env: env)
        #expect(again.status == 1)
        #expect(again.err.contains("refusing to overwrite"))
        #expect(try logicalDump(cli.vault) == before)
    }

    @Test func aWrongPassphraseExits3AndWritesNothing() throws {
        let cli = CLIRunner()
        _ = try cli.initVault()
        let before = try logicalDump(cli.vault)
        let result = try cli.run(["profile", "set", "email", "x@example.org"], env: ["VRM_PASSPHRASE": "not it"])
        #expect(result.status == 3)
        #expect(result.err.contains("wrong passphrase"))
        #expect(try logicalDump(cli.vault) == before)
    }

    @Test func aFlippedHeaderByteExits4AsCorruptNotWrongPassphrase() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        let raw = try RawDatabase.open(cli.vault)
        let hex = try #require(try raw.strings("SELECT hex(wrapped_key) FROM vault_header").first)
        var bytes = try #require(Hex.decode(hex))
        bytes[30] ^= 0x01
        try raw.execute("UPDATE vault_header SET wrapped_key = x'\(Hex.encode(bytes))'")
        let result = try cli.run(["profile", "show"], env: env)
        #expect(result.status == 4)
        #expect(result.err.contains("corrupt"))
        #expect(!result.err.contains("wrong passphrase"))
    }

    @Test(arguments: [
        ("empty", Data()),
        ("text", Data(repeating: 0x41, count: 4096)),
        ("sqlite-header-only", Data("SQLite format 3\u{0}".utf8) + Data(repeating: 0, count: 84)),
    ])
    func unreadableFilesExit4(name: String, content: Data) throws {
        let cli = CLIRunner()
        FileManager.default.createFile(atPath: cli.vault, contents: content)
        let result = try cli.run(["profile", "show"], env: ["VRM_PASSPHRASE": "x"])
        #expect(result.status == 4, "\(name): \(result.err)")
        #expect(result.err.contains("corrupt or unreadable"))
        #expect(FileManager.default.contents(atPath: cli.vault) == content)
    }

    @Test func aForeignOrFutureDatabaseExits4() throws {
        let cli = CLIRunner()
        try rawExecute(cli.vault, "CREATE TABLE t (x)")
        let foreign = try cli.run(["audit", "verify"])
        #expect(foreign.status == 4)
        #expect(foreign.err.contains("not a VRM vault"))

        let future = CLIRunner()
        _ = try future.initVault()
        try rawExecute(future.vault, "UPDATE vault_header SET format_version = 3")
        let result = try future.run(["audit", "verify"])
        #expect(result.status == 4)
        #expect(result.err.contains("newer vrm"))
    }

    @Test func noVaultExits5() throws {
        let cli = CLIRunner()
        let result = try cli.run(["profile", "show"], env: ["VRM_PASSPHRASE": "x"])
        #expect(result.status == 5)
        #expect(result.err.contains("vrm init"))
    }

    @Test func withoutAPassphraseSourceOrTerminalTheErrorSaysWhatToDo() throws {
        let cli = CLIRunner()
        let result = try cli.run(["init"])
        // A missing input is a usage error, like any other (README's exit codes).
        #expect(result.status == 2)
        #expect(result.err.contains("--passphrase-file"))
        #expect(!FileManager.default.fileExists(atPath: cli.vault))
    }

    @Test func anEmptyPassphraseIsRefused() throws {
        let cli = CLIRunner()
        let result = try cli.run(["init", "--passphrase-file", cli.writePassphrase("\n")])
        #expect(result.status == 2)
        #expect(result.err.contains("empty"))
        #expect(!FileManager.default.fileExists(atPath: cli.vault))
    }

    @Test func usageErrorsExit2AndNameTheProblem() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try cli.run(["vendor", "add", "Acme"], env: env)
        let cases: [([String], String)] = [
            (["grant", "create", "--vendor", "Acme", "--scope", "profile.Email!", "--purpose", "delivery"], "valid scopes: profile, profile.KEY"),
            (["grant", "create", "--vendor", "Acme", "--scope", "profile", "--purpose", "spying"], "valid purposes:"),
            (["grant", "create", "--vendor", "Acme", "--scope", "profile", "--purpose", "delivery", "--max-uses", "0"], "--max-uses"),
            (["grant", "create", "--vendor", "Acme", "--scope", "profile", "--purpose", "delivery", "--expires", "yesterday"], "cannot read the expiry"),
            (["grant", "create", "--vendor", "Acme", "--scope", "profile", "--purpose", "delivery", "--expires", "2001-01-01"], "in the past"),
            (["grant", "create", "--vendor", "Acme", "--purpose", "delivery"], "--scope"),
            (["vendor", "add", "Bolt", "--public-key", "vrmpk1_nope"], "malformed vendor public key"),
            (["profile", "set", "Bad Key", "x"], "invalid profile key"),
            (["frobnicate"], "unknown command \"frobnicate\" for `vrm`"),
            (["vendor", "stage", "Acme", "married"], "married"),
        ]
        for (args, message) in cases {
            let result = try cli.run(args, env: env)
            #expect(result.status == 2, "\(args): \(result.err)")
            #expect(result.err.contains(message), "\(args): \(result.err)")
        }
        #expect(try cli.run(["grant", "list", "--json"], env: env).out.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func unknownRecordsAndStateConflictsExit1() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try cli.run(["vendor", "add", "Acme"], env: env)
        let unknownVendor = try cli.run(["grant", "create", "--vendor", "Nobody", "--scope", "profile", "--purpose", "delivery"], env: env)
        #expect(unknownVendor.status == 1)
        #expect(unknownVendor.err.contains("no vendor \"Nobody\""))
        let unknownGrant = try cli.run(["grant", "revoke", "gr_doesnotexist0000"], env: env)
        #expect(unknownGrant.status == 1)
        #expect(unknownGrant.err.contains("no grant gr_doesnotexist0000"))
        let token = try cli.run(["grant", "create", "--vendor", "Acme", "--scope", "profile", "--purpose", "delivery", "--json"], env: env)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(token.out.utf8)) as? [String: Any])
        let id = try #require(json["grant_id"] as? String)
        #expect(try cli.run(["grant", "revoke", id], env: env).status == 0)
        let twice = try cli.run(["grant", "revoke", id], env: env)
        #expect(twice.status == 1)
        #expect(twice.err.contains("already revoked"))
        let duplicate = try cli.run(["vendor", "add", "acme"], env: env)
        #expect(duplicate.status == 1)
    }

    @Test func removingAVendorNeedsConfirmationWithoutATerminal() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try cli.run(["vendor", "add", "Acme"], env: env)
        let refused = try cli.run(["vendor", "remove", "Acme"], env: env)
        #expect(refused.status == 2)
        #expect(refused.err.contains("--yes"))
        #expect(try cli.run(["vendor", "remove", "Acme", "--yes"], env: env).status == 0)
        #expect(try cli.run(["vendor", "list", "--json"], env: env).out.contains("[]"))
    }

    @Test func changingThePassphraseUnlocksWithTheNewOneOnly() throws {
        let cli = CLIRunner()
        let env = try cli.initVault(passphrase: "old passphrase")
        try cli.run(["profile", "set", "name", "Jo"], env: env)
        let new = cli.writePassphrase("new passphrase", name: "new")
        #expect(try cli.run(["passphrase", "change", "--new-passphrase-file", new], env: env).status == 0)
        #expect(try cli.run(["profile", "get", "name"], env: env).status == 3)
        let ok = try cli.run(["profile", "get", "name"], env: ["VRM_PASSPHRASE_FILE": new])
        #expect(ok.status == 0)
        #expect(ok.out == "Jo\n")
    }

    @Test func helpHasExamplesAndExitCodes() throws {
        let cli = CLIRunner()
        let root = try cli.run(["--help"])
        #expect(root.status == 0)
        #expect(root.out.contains("Exit codes: 0 ok, 1 error, 2 usage or cancelled, 3 wrong passphrase"))
        let create = try cli.run(["grant", "create", "--help"])
        for purpose in ["service-provision", "legal-compliance", "to deliver goods to you", "profile.PREFIX.*", "Examples:"] {
            #expect(create.out.contains(purpose))
        }
    }
}
