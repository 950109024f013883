import Foundation
import Testing
import VaultTestSupport

@Suite struct RecordCommandTests {
    @Test func badRecordInputGetsClearErrorsAndWritesNothing() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try cli.run(["vendor", "add", "Acme"], env: env)
        let added = try cli.run(["purchase", "add", "--vendor", "Acme", "--item", "Tent", "--price", "10", "--currency", "EUR"], env: env)
        #expect(added.status == 0)
        let id = try #require(added.out.split(separator: " ").dropFirst(2).first).trimmingCharacters(in: CharacterSet(charactersIn: ":"))
        let caseOut = try cli.run(["case", "open", "--vendor", "Acme", "--subject", "Leak"], env: env)
        let caseID = try #require(caseOut.out.split(separator: " ").last).trimmingCharacters(in: CharacterSet(charactersIn: ".\n"))
        #expect(try cli.run(["case", "resolve", caseID], env: env).status == 0)
        let before = try logicalDump(cli.vault)
        let bad = cli.dir.file("bad.csv")
        FileManager.default.createFile(atPath: bad, contents: Data("vendor,item,date\nAcme,Stove,2026-01-01\nAcme,Pan,2026-02-30\n".utf8))
        let missing = cli.dir.file("missing.csv")
        FileManager.default.createFile(atPath: missing, contents: Data("vendor,item\nAcme,Stove\n".utf8))
        let cases: [([String], Int32, String)] = [
            (["purchase", "add", "--vendor", "Nobody", "--item", "x"], 1, "no vendor \"Nobody\""),
            (["purchase", "add", "--vendor", "Acme", "--item", "x", "--date", "2026-02-30"], 2, "invalid --date"),
            (["purchase", "add", "--vendor", "Acme", "--item", "x", "--price=-3", "--currency", "EUR"], 2, "invalid price"),
            (["purchase", "add", "--vendor", "Acme", "--item", "x", "--price", "3.999", "--currency", "EUR"], 2, "EUR has 2 decimal places"),
            (["purchase", "add", "--vendor", "Acme", "--item", "x", "--price", "3", "--currency", "XYZ"], 2, "unknown currency code"),
            (["purchase", "annotate", id, "--rating", "6"], 2, "--rating must be from 1 to 5"),
            (["purchase", "show", "p_unknown"], 1, "no purchase p_unknown"),
            (["case", "log", "c_unknown", "hello"], 1, "no case c_unknown"),
            (["case", "resolve", caseID], 1, "already resolved"),
            (["purchase", "import", bad], 2, "line 3, column \"date\": invalid date"),
            (["purchase", "import", missing], 2, "missing column \"date\""),
            (["export", "--format", "pdf", "--out", cli.dir.file("x")], 2, "pdf"),
        ]
        for (args, status, message) in cases {
            let result = try cli.run(args, env: env)
            #expect(result.status == status, "\(args): \(result.err)")
            #expect(result.err.contains(message), "\(args): \(result.err)")
        }
        #expect(try logicalDump(cli.vault) == before)
    }

    @Test func exportsArePrivateAndRoundTripThroughImportAll() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try cli.run(["profile", "set", "email", "jo@example.org"], env: env)
        try cli.run(["vendor", "add", "Acme"], env: env)
        try cli.run(["purchase", "add", "--vendor", "Acme", "--item", "Tent", "--price", "10", "--currency", "EUR", "--gift-for", "Sam"], env: env)
        let first = cli.dir.file("first.json")
        let export = try cli.run(["export", "--format", "json", "--out", first], env: env)
        #expect(export.status == 0)
        #expect(export.err.contains("plaintext"))
        #expect((try FileManager.default.attributesOfItem(atPath: first)[.posixPermissions] as? Int) == 0o600)
        #expect(try cli.run(["export", "--format", "json", "--out", first], env: env).status == 1)
        let copy = cli.dir.file("copy.db")
        #expect(try cli.run(["init", "--vault", copy], env: env).status == 0)
        #expect(try cli.run(["import-all", first, "--vault", copy], env: env).status == 0)
        let second = cli.dir.file("second.json")
        #expect(try cli.run(["export", "--format", "json", "--out", second, "--vault", copy], env: env).status == 0)
        #expect(FileManager.default.contents(atPath: first) == FileManager.default.contents(atPath: second))
    }
}
