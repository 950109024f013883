import Foundation
import Testing
import VaultTestSupport

/// Issue #20's repros, rerun through the binary: sessions, scripting with --json, safe
/// removal, typo'd scopes and commands, messages, passphrase strength, read-only vaults.
@Suite struct EverydayUseTests {
    /// A private runtime directory, as systemd-logind makes one.
    static func runtimeDirectory(_ cli: CLIRunner) throws -> String {
        let path = cli.dir.file("run")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    @Test func oneUnlockServesASessionUntilLock() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        let runtime = try Self.runtimeDirectory(cli)
        let unlocked = try cli.run(["unlock", "--raw"], env: env.merging(["XDG_RUNTIME_DIR": runtime]) { $1 })
        #expect(unlocked.status == 0, "\(unlocked.err)")
        let session = unlocked.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(session.count == 32 + 1 + 43)
        // No passphrase source at all: the session alone opens the vault.
        let sessionEnv = ["XDG_RUNTIME_DIR": runtime, "VRM_SESSION": session]
        let added = try cli.run(["vendor", "add", "Acme Outdoor", "--json"], env: sessionEnv)
        #expect(added.status == 0, "\(added.err)")
        #expect((try Self.object(added.out)["id"] as? String)?.count == 32)
        // The file holds the master key sealed; the session key is nowhere on disk.
        let files = try FileManager.default.contentsOfDirectory(atPath: runtime + "/vrm").filter { $0.hasPrefix("session-") }
        #expect(files.count == 1)
        let stored = try String(contentsOfFile: runtime + "/vrm/" + files[0], encoding: .utf8)
        #expect(!stored.contains(String(session.split(separator: ".")[1])))
        let mode = try FileManager.default.attributesOfItem(atPath: runtime + "/vrm/" + files[0])[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // The shell form, for eval.
        let shell = try cli.run(["unlock"], env: env.merging(["XDG_RUNTIME_DIR": runtime]) { $1 })
        #expect(shell.out.hasPrefix("export VRM_SESSION=\""))
        // Lock ends it: the next command has no passphrase source and says why (exit 2).
        let locked = try cli.run(["lock"], env: sessionEnv)
        #expect(locked.status == 0)
        #expect(locked.out == "unset VRM_SESSION\n")
        #expect(try cli.run(["lock", "--json"], env: sessionEnv).out == "{\n  \"ended\" : 0\n}\n")
        // Without a runtime directory, lock still tells the shell to forget the variable.
        #expect(try cli.run(["lock"], env: ["VRM_SESSION": session]).out == "unset VRM_SESSION\n")
        // A planted link in place of the session directory is refused.
        let other = try Self.runtimeDirectory(CLIRunner())
        try FileManager.default.removeItem(atPath: runtime + "/vrm")
        try FileManager.default.createSymbolicLink(atPath: runtime + "/vrm", withDestinationPath: other)
        let planted = try cli.run(["unlock"], env: env.merging(["XDG_RUNTIME_DIR": runtime]) { $1 })
        #expect(planted.status == 1)
        #expect(planted.err.contains("not a link"))
        try FileManager.default.removeItem(atPath: runtime + "/vrm")
        let after = try cli.run(["vendor", "list"], env: sessionEnv)
        #expect(after.status == 2)
        #expect(after.err.contains("the session has ended"))
        // Without a runtime directory there is no session, and it says what to use instead.
        let noRuntime = try cli.run(["unlock"], env: env)
        #expect(noRuntime.status == 2)
        #expect(noRuntime.err.contains("XDG_RUNTIME_DIR"))
    }

    @Test func anEditedSessionFileOrAChangedPassphraseEndsTheSession() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        let runtime = try Self.runtimeDirectory(cli)
        func unlock() throws -> [String: String] {
            let out = try cli.run(["unlock", "--raw"], env: env.merging(["XDG_RUNTIME_DIR": runtime]) { $1 }).out
            return ["XDG_RUNTIME_DIR": runtime, "VRM_SESSION": out.trimmingCharacters(in: .whitespacesAndNewlines)]
        }
        // A longer idle timeout written into the file fails its AEAD.
        let first = try unlock()
        let id = String(try #require(first["VRM_SESSION"]).prefix(32))
        let file = runtime + "/vrm/session-" + id
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "\"idle_timeout_seconds\":900", with: "\"idle_timeout_seconds\":86400").write(
            toFile: file, atomically: true, encoding: .utf8)
        let edited = try cli.run(["vendor", "list"], env: first)
        #expect(edited.status == 2)
        #expect(edited.err.contains("does not open"))
        #expect(!FileManager.default.fileExists(atPath: file))
        // A passphrase change ends every session of the vault: its file is destroyed at once.
        let second = try unlock()
        #expect(try cli.run(["vendor", "list"], env: second).status == 0)
        let new = cli.writePassphrase("another long passphrase", name: "new")
        #expect(try cli.run(["passphrase", "change", "--new-passphrase-file", new], env: env.merging(["XDG_RUNTIME_DIR": runtime]) { $1 }).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime + "/vrm").filter { $0.hasPrefix("session-") }.isEmpty)
        let stale = try cli.run(["vendor", "list"], env: second)
        #expect(stale.status == 2)
        #expect(stale.err.contains("the session has ended"))
        // A malformed value is named as such.
        let malformed = try cli.run(["vendor", "list"], env: ["XDG_RUNTIME_DIR": runtime, "VRM_SESSION": "nonsense"])
        #expect(malformed.status == 2)
        #expect(malformed.err.contains("not a session value"))
    }

    @Test func everyChangeHasJSONWithItsIdAndDashIsStandardInOrOut() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        let vendor = try Self.object(try cli.run(["vendor", "add", "Acme Outdoor", "--json"], env: env).out)
        let vendorID = try #require(vendor["id"] as? String)
        let list = try JSONSerialization.jsonObject(with: Data(try cli.run(["vendor", "list", "--json"], env: env).out.utf8)) as? [[String: Any]]
        #expect(list?.first?["id"] as? String == vendorID)
        let purchase = try Self.object(
            try cli.run(["purchase", "add", "--vendor", "Acme Outdoor", "--item", "Tent", "--price", "10", "--currency", "EUR", "--json"], env: env).out)
        #expect((purchase["id"] as? String)?.hasPrefix("p_") == true)
        let annotated = try Self.object(
            try cli.run(["purchase", "annotate", try #require(purchase["id"] as? String), "--rating", "4", "--json"], env: env).out)
        #expect(annotated["rating"] as? Int == 4)
        let opened = try Self.object(try cli.run(["case", "open", "--vendor", "Acme Outdoor", "--subject", "Leak", "--json"], env: env).out)
        let caseID = try #require(opened["id"] as? String)
        let escalated = try Self.object(try cli.run(["case", "escalate", caseID, "--json"], env: env).out)
        #expect(escalated["status"] as? String == "escalated")
        let stage = try Self.object(try cli.run(["vendor", "stage", "Acme Outdoor", "commitment", "--json"], env: env).out)
        #expect(stage["stage"] as? String == "commitment")
        let grant = try Self.object(
            try cli.run(["grant", "create", "--vendor", "Acme Outdoor", "--scope", "purchases:own", "--purpose", "warranty", "--json"], env: env).out)
        #expect((grant["id"] as? String)?.hasPrefix("gr_") == true && grant["id"] as? String == grant["grant_id"] as? String)
        let revoked = try Self.object(try cli.run(["grant", "revoke", try #require(grant["id"] as? String), "--json"], env: env).out)
        #expect(revoked["state"] as? String == "revoked")
        // A profile value from standard input, without its line ending.
        let set = try cli.run(["profile", "set", "address.shipping", "-", "--json"], env: env, input: Data("1 Main St\nSpringfield\n".utf8))
        #expect(try Self.object(set.out)["value"] as? String == "1 Main St\nSpringfield")
        // `--out -` is standard output, not a file named "-", and the export is snake_case.
        let exported = try cli.run(["export", "--format", "json", "--out", "-"], env: env)
        #expect(exported.status == 0)
        #expect(!FileManager.default.fileExists(atPath: cli.dir.file("-")))
        let document = try Self.object(exported.out)
        #expect(document["format"] as? String == "vrm-export/2")
        #expect(exported.out.contains("\"vendor_id\""))
        #expect(!exported.out.contains("\"vendorID\""))
        // import-all reads it from standard input, and reads the older camelCase format too.
        let fresh = cli.dir.file("fresh.db")
        #expect(try cli.run(["init", "--vault", fresh], env: env).status == 0)
        let imported = try cli.run(["import-all", "-", "--vault", fresh, "--json"], env: env, input: Data(exported.out.utf8))
        #expect(imported.status == 0, "\(imported.err)")
        #expect(try Self.object(imported.out)["purchases"] as? Int == 1)
        var old = exported.out.replacingOccurrences(of: "vrm-export/2", with: "vrm-export/1")
        for (snake, camel) in [
            ("vendor_id", "vendorID"), ("minor_units", "minorUnits"), ("created_at", "createdAt"), ("updated_at", "updatedAt"),
            ("opened_at", "openedAt"), ("follow_up", "followUp"), ("warranty_until", "warrantyUntil"), ("order_number", "orderNumber"),
        ] {
            old = old.replacingOccurrences(of: "\"\(snake)\"", with: "\"\(camel)\"")
        }
        let older = cli.dir.file("older.db")
        #expect(try cli.run(["init", "--vault", older], env: env).status == 0)
        let v1 = try cli.run(["import-all", "-", "--vault", older], env: env, input: Data(old.utf8))
        #expect(v1.status == 0, "\(v1.err)")
        let again = try cli.run(["export", "--format", "json", "--out", "-", "--vault", older], env: env)
        #expect(again.out == exported.out)
    }

    @Test func removalAsksNeedsYesWithoutATerminalAndTakesSeveralIds() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try cli.run(["vendor", "add", "Acme Outdoor"], env: env)
        try cli.run(["vendor", "add", "Bolt Bikes"], env: env)
        var ids: [String] = []
        for item in ["Tent", "Stove", "Pan"] {
            let out = try cli.run(["purchase", "add", "--vendor", "Acme Outdoor", "--item", item, "--json"], env: env).out
            ids.append(try #require(try Self.object(out)["id"] as? String))
        }
        let caseID = try #require(
            try Self.object(try cli.run(["case", "open", "--vendor", "Acme Outdoor", "--subject", "Leak", "--json"], env: env).out)["id"] as? String)
        let before = try logicalDump(cli.vault)
        // No terminal, no --yes: nothing goes.
        let unconfirmed = try cli.run(["purchase", "remove", ids[0]], env: env)
        #expect(unconfirmed.status == 2)
        #expect(unconfirmed.err.contains("--yes"))
        #expect(try cli.run(["case", "remove", caseID], env: env).status == 2)
        // One unknown id among several: nothing goes.
        let partly = try cli.run(["purchase", "remove", ids[0], "p_doesnotexist0000", "--yes"], env: env)
        #expect(partly.status == 1)
        #expect(partly.err.contains("p_doesnotexist0000"))
        // A vendor with records says what holds it.
        let held = try cli.run(["vendor", "remove", "Acme Outdoor", "--yes"], env: env)
        #expect(held.status == 1)
        #expect(held.err.contains("3 purchases and 1 case"))
        #expect(held.err.contains("--with-records"))
        #expect(try logicalDump(cli.vault) == before)
        // Several at once.
        let removed = try cli.run(["purchase", "remove", ids[0], ids[1], "--yes", "--json"], env: env)
        #expect(removed.status == 0, "\(removed.err)")
        #expect((try Self.object(removed.out)["removed"] as? [[String: Any]])?.count == 2)
        let gone = try cli.run(["vendor", "remove", "Acme Outdoor", "Bolt Bikes", "--with-records", "--yes", "--json"], env: env)
        #expect(gone.status == 0, "\(gone.err)")
        let removals = try #require(try Self.object(gone.out)["removed"] as? [[String: Any]])
        #expect(removals.first?["removed_purchases"] as? Int == 1)
        #expect(removals.first?["removed_cases"] as? Int == 1)
        #expect(try cli.run(["purchase", "list", "--json"], env: env).out == "[]\n")
        #expect(try cli.run(["vendor", "list", "--json"], env: env).out == "[]\n")
    }

    @Test func typosAreRefusedWithTheNearestNames() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try cli.run(["vendor", "add", "Acme Outdoor"], env: env)
        try cli.run(["profile", "set", "address.shipping", "1 Main St"], env: env)
        let before = try logicalDump(cli.vault)
        let typo = try cli.run(["grant", "create", "--vendor", "Acme Outdoor", "--scope", "profile.adress", "--purpose", "delivery"], env: env)
        #expect(typo.status == 2)
        #expect(typo.err.contains("matches no profile field"))
        #expect(typo.err.contains("\"profile.address.*\""))
        #expect(typo.err.contains("--allow-unset"))
        let scope = try cli.run(["grant", "create", "--vendor", "Acme Outdoor", "--scope", "purchase:own", "--purpose", "delivery"], env: env)
        #expect(scope.err.contains("did you mean \"purchases:own\""))
        let vendor = try cli.run(["vendor", "show", "Acme"], env: env)
        #expect(vendor.status == 1)
        #expect(vendor.err.contains("no vendor \"Acme\" (did you mean \"Acme Outdoor\"?)"))
        let command = try cli.run(["vendr", "list"], env: env)
        #expect(command.status == 2)
        #expect(command.err.contains("unknown command \"vendr\" for `vrm` (did you mean \"vendor\"?)"))
        let sub = try cli.run(["grant", "lst"], env: env)
        #expect(sub.err.contains("did you mean \"list\""))
        #expect(try logicalDump(cli.vault) == before)
        // A field to be filled in later is allowed when said so.
        let later = try cli.run(
            ["grant", "create", "--vendor", "Acme Outdoor", "--scope", "profile.phone", "--purpose", "delivery", "--allow-unset", "--token-only"], env: env)
        #expect(later.status == 0, "\(later.err)")
    }

    @Test func weakPassphrasesAreRefusedUnlessAllowed() throws {
        let cli = CLIRunner()
        for (text, reason) in [
            ("abc", "shorter than 10"), ("Password123", "common word with digits"), ("correct horse battery staple", "most common"),
            ("aaaabbbbaaaa", "too few different"),
        ] {
            let result = try cli.run(["init", "--passphrase-file", cli.writePassphrase(text)])
            #expect(result.status == 2)
            #expect(result.err.contains(reason), "\(text): \(result.err)")
            #expect(!FileManager.default.fileExists(atPath: cli.vault))
        }
        #expect(try cli.run(["init", "--passphrase-file", cli.writePassphrase("abc"), "--allow-weak"]).status == 0)
    }

    @Test func aReadOnlyVaultIsReadableAndWritesSayWhy() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try cli.run(["vendor", "add", "Acme Outdoor"], env: env)
        try cli.run(["profile", "set", "email", "jo@example.org"], env: env)
        try cli.run(["purchase", "add", "--vendor", "Acme Outdoor", "--item", "Tent"], env: env)
        try cli.run(["grant", "create", "--vendor", "Acme Outdoor", "--scope", "profile.email", "--purpose", "delivery", "--token-only"], env: env)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cli.vault + suffix) }
        chmod(cli.vault, 0o400)
        defer { chmod(cli.vault, 0o600) }
        for command in [
            ["profile", "show"], ["vendor", "list"], ["purchase", "list"], ["case", "list"], ["grant", "list"], ["audit"], ["audit", "verify"],
            ["report", "exposure"], ["export", "--format", "json", "--out", "-"],
        ] {
            let result = try cli.run(command, env: env)
            #expect(result.status == 0, "\(command): \(result.err)")
        }
        let write = try cli.run(["vendor", "add", "Bolt Bikes"], env: env)
        #expect(write.status == 1)
        #expect(write.err.contains("read-only"))
        #expect(write.err.contains(cli.vault))
        // Nothing was created beside the read-only file.
        #expect(!FileManager.default.fileExists(atPath: cli.vault + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: cli.vault + "-shm"))
    }

    @Test func aPortInUseIsOnePlainSentence() throws {
        // One server holds a port; a second one asked for it says so plainly.
        let first = CLIRunner()
        let holder = try BackgroundCommand(first, ["serve", "--port", "0"], env: try first.initVault())
        defer { holder.stop() }
        let cli = CLIRunner()
        let env = try cli.initVault()
        let result = try cli.run(["serve", "--port", String(holder.port)], env: env)
        #expect(result.status == 1)
        #expect(result.err.contains("port \(holder.port) on 127.0.0.1 is in use"), "\(result.err)")
        #expect(!result.err.contains("bind(descriptor"))
    }

    @Test func initNamesThePathItCannotCreate() throws {
        let cli = CLIRunner()
        let blocker = cli.dir.file("not-a-directory")
        FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        let result = try cli.run(["init", "--vault", blocker + "/vault.db", "--passphrase-file", cli.writePassphrase("a long enough passphrase")])
        #expect(result.status == 1)
        #expect(result.err.contains(blocker))
    }
}
