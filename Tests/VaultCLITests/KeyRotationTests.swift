import Foundation
import Testing
import VaultTestSupport

/// `vrm passphrase change --rotate-key`: one transaction, so a kill at any moment leaves the
/// old vault or the new one; afterwards neither the old passphrase nor an old copy of the file
/// opens what is written.
@Suite struct KeyRotationTests {
    /// A vault with a few thousand purchases (so the rotation takes a while), a grant and a case.
    static func populated() throws -> (CLIRunner, [String: String]) {
        let cli = CLIRunner()
        let env = try cli.initVault(passphrase: "old passphrase")
        try #require(try cli.run(["vendor", "add", "Acme"], env: env).status == 0)
        var csv = "vendor,item,date,price,currency,order\n"
        for i in 0..<2000 { csv += "Acme,Item \(i),2026-01-01,1.00,EUR,O-\(i)\n" }
        let file = cli.dir.file("p.csv")
        try Data(csv.utf8).write(to: URL(fileURLWithPath: file))
        try #require(try cli.run(["purchase", "import", file], env: env).status == 0)
        try #require(try cli.run(["profile", "set", "email", "jo@example.org"], env: env).status == 0)
        try #require(try cli.run(["case", "open", "--vendor", "Acme", "--subject", "Pole"], env: env).status == 0)
        try #require(try cli.run(["grant", "create", "--vendor", "Acme", "--scope", "purchases:own", "--purpose", "warranty"], env: env).status == 0)
        _ = cli.writePassphrase("new passphrase", name: "new")
        return (cli, env)
    }

    @Test func aKillAtAnyMomentLeavesTheOldVaultOrTheNew() throws {
        let (cli, _) = try Self.populated()
        let original = cli.dir.file("original.db")
        try FileManager.default.copyItem(atPath: cli.vault, toPath: original)
        let state = cli.dir.file("state")
        let originalState = cli.dir.file("original-state")
        try FileManager.default.copyItem(atPath: state, toPath: originalState)
        var outcomes: Set<String> = []
        // The last run is not killed: however slow the machine, it ends in the new vault.
        let delays: [Double?] = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.6, 1.0, nil]
        for delay in delays {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cli.vault + suffix) }
            try? FileManager.default.removeItem(atPath: state)
            try FileManager.default.copyItem(atPath: original, toPath: cli.vault)
            try FileManager.default.copyItem(atPath: originalState, toPath: state)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
            process.arguments = ["passphrase", "change", "--rotate-key", "--new-passphrase-file", cli.dir.file("new")]
            process.environment = cli.environment(["VRM_PASSPHRASE_FILE": cli.dir.file("pw")])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if let delay {
                Thread.sleep(forTimeInterval: delay)
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            if delay == nil {
                #expect(process.terminationReason == .exit && process.terminationStatus == 0, "the rotation left alone finishes")
            }
            let when = delay.map { "after \($0) s" } ?? "unkilled"

            let old = try cli.run(["purchase", "list", "--json"], env: ["VRM_PASSPHRASE_FILE": cli.dir.file("pw")])
            let new = try cli.run(["purchase", "list", "--json"], env: ["VRM_PASSPHRASE_FILE": cli.dir.file("new")])
            #expect((old.status == 0) != (new.status == 0), "\(when): exactly one passphrase opens the vault (\(old.err) / \(new.err))")
            let env = ["VRM_PASSPHRASE_FILE": cli.dir.file(old.status == 0 ? "pw" : "new")]
            outcomes.insert(old.status == 0 ? "old" : "new")
            #expect((old.status == 0 ? old : new).out.components(separatedBy: "\"item\"").count == 2001, "\(when)")
            for command in [["profile", "get", "email"], ["case", "list"], ["grant", "list"], ["audit"], ["audit", "verify"]] {
                let result = try cli.run(command, env: env)
                #expect(result.status == 0, "\(when), \(command): \(result.err)")
            }
        }
        // The unkilled run ends in the new vault; the killed ones in either.
        #expect(outcomes.contains("new"))
    }

    @Test func anOldCopyAndTheOldPassphraseOpenNothingWrittenAfterwards() throws {
        let (cli, env) = try Self.populated()
        let copy = cli.dir.file("copy.db")
        try FileManager.default.copyItem(atPath: cli.vault, toPath: copy)
        let rotated = try cli.run(["passphrase", "change", "--rotate-key", "--new-passphrase-file", cli.dir.file("new")], env: env)
        #expect(rotated.status == 0, "\(rotated.err)")
        #expect(try cli.run(["profile", "get", "email"], env: env).status == 3)  // old passphrase: wrong
        let newEnv = ["VRM_PASSPHRASE_FILE": cli.dir.file("new")]
        #expect(try cli.run(["profile", "set", "email", "after@example.org"], env: newEnv).status == 0)
        // Splice the row written after the rotation into the old copy: its old key cannot open it.
        let sealed = try #require(try RawDatabase.open(cli.vault).strings("SELECT hex(sealed) FROM profile").first)
        try rawExecute(copy, "UPDATE profile SET sealed = x'\(sealed)'")
        let stale = try cli.run(["profile", "get", "email", "--vault", copy], env: env)
        #expect(stale.status == 4)
        #expect(!stale.out.contains("after@example.org"))
        #expect(try cli.run(["profile", "get", "email"], env: newEnv).out.contains("after@example.org"))
        let verified = try cli.run(["audit", "verify"], env: newEnv)
        #expect(verified.status == 0, "\(verified.err)")
        #expect(try cli.run(["audit"], env: newEnv).out.contains("key.rotated"))
    }

    @Test func verifyUsesTheKeyAndSaysWhatTheKeylessCheckCannotSee() throws {
        let (cli, env) = try Self.populated()
        let keyed = try cli.run(["audit", "verify"], env: env)
        #expect(keyed.status == 0, "\(keyed.err)")
        #expect(keyed.out.contains("authenticated"))
        let keyless = try cli.run(["audit", "verify", "--without-key"])
        #expect(keyless.status == 0)
        #expect(keyless.out.contains("without the key"))
        // A forged entry the CLI never wrote: the keyless check passes, the keyed one names it.
        try rawExecute(cli.vault, "UPDATE audit SET mac = NULL WHERE seq = 1")
        #expect(try cli.run(["audit", "verify", "--without-key"]).status == 0)
        let broken = try cli.run(["audit", "verify"], env: env)
        #expect(broken.status == 4)
        #expect(broken.err.contains("share history damaged at entry 1"))
    }
}
