import Foundation
import Testing
import VaultTestSupport

/// `vrm purchase import` through the binary: the documented examples, the JSON document,
/// standard input, and the error list.
@Suite struct PurchaseImportCommandTests {
    /// Runs `vrm` with `input` as standard input.
    static func run(_ cli: CLIRunner, _ args: [String], env: [String: String], input: Data) throws -> (status: Int32, out: String, err: String) {
        let inputFile = cli.dir.file("stdin-\(UUID().uuidString)")
        try input.write(to: URL(fileURLWithPath: inputFile))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        process.arguments = args
        process.environment = cli.environment(env)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputFile))
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test func jsonOutputIsOneDocumentWithIdsOnlyWhenWritten() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        #expect(try cli.run(["vendor", "add", "Acme Outdoor"], env: env).status == 0)
        let file = cli.dir.file("orders.csv")
        try Data(
            "vendor,item,date,price,currency,order\nAcme Outdoor,Tent,2024-03-14,59.90,EUR,A-1\nBolt Bikes,Bell,2024-03-15,€7.45,,B-1\nBolt Bikes,Lube,2024-03-15,6.2,EUR,B-2\n"
                .utf8
        )
        .write(to: URL(fileURLWithPath: file))
        let dry = try cli.run(["purchase", "import", file, "--create-vendors", "--dry-run", "--json"], env: env)
        #expect(dry.status == 0, "\(dry.err)")
        let dryDoc = try #require(try JSONSerialization.jsonObject(with: Data(dry.out.utf8)) as? [String: Any])
        #expect(Set(dryDoc.keys) == ["dry_run", "source", "added", "new_vendors", "duplicates", "skipped"])
        #expect(dryDoc["dry_run"] as? Bool == true && dryDoc["source"] as? String == "csv" && dryDoc["new_vendors"] as? [String] == ["Bolt Bikes"])
        #expect(dryDoc["skipped"] as? [String: Int] == ["cancelled": 0, "credits": 0, "reversals": 0, "pending": 0, "files_without_order": 0])
        let dryAdded = try #require(dryDoc["added"] as? [[String: Any]])
        #expect(dryAdded.count == 3 && dryAdded.allSatisfy { $0["id"] == nil })
        #expect(dryAdded[1]["price"] as? String == "7.45" && dryAdded[1]["currency"] as? String == "EUR" && dryAdded[1]["vendor"] as? String == "Bolt Bikes")
        #expect(try cli.run(["vendor", "list"], env: env).out.contains("Bolt Bikes") == false)

        let real = try cli.run(["purchase", "import", file, "--create-vendors", "--json"], env: env)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(real.out.utf8)) as? [String: Any])
        let added = try #require(doc["added"] as? [[String: Any]])
        #expect(doc["dry_run"] as? Bool == false && added.count == 3 && doc["duplicates"] as? Int == 0)
        let ids = added.compactMap { $0["id"] as? String }
        #expect(ids.count == 3 && ids.allSatisfy { $0.hasPrefix("p_") })
        let list = try cli.run(["purchase", "list", "--json"], env: env)
        for id in ids { #expect(list.out.contains(id)) }
        #expect(
            Set(added.first.map { Array($0.keys) } ?? []).isSuperset(of: [
                "id", "vendor", "item", "date", "price", "currency", "order", "quantity", "returned", "tags",
            ]))
        let again = try cli.run(["purchase", "import", file, "--json"], env: env)
        let againDoc = try #require(try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any])
        #expect((againDoc["added"] as? [Any])?.isEmpty == true && againDoc["duplicates"] as? Int == 3 && (againDoc["new_vendors"] as? [Any])?.isEmpty == true)
    }

    @Test func standardInputIsReadWithADash() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        #expect(try cli.run(["vendor", "add", "Acme Outdoor"], env: env).status == 0)
        let csv = Data("item,date,price,currency,order\nTent,2024-03-14T10:00:00Z,\"1,299.00\",EUR,S-1\n".utf8)
        let result = try Self.run(cli, ["purchase", "import", "-", "--vendor", "Acme Outdoor"], env: env, input: csv)
        #expect(result.status == 0 && result.out == "Imported 1 purchase; 0 already recorded (skipped).\n", "\(result.err)")
        let json = Data(#"[{"item": "Tent", "date": "2024-03-14", "order": "S-1"}, {"item": "Pegs", "date": "2024-03-14", "order": "S-1"}]"#.utf8)
        let again = try Self.run(cli, ["purchase", "import", "-", "--format", "json", "--vendor", "Acme Outdoor"], env: env, input: json)
        #expect(again.status == 0 && again.out == "Imported 1 purchase; 1 already recorded (skipped).\n", "\(again.err)")
    }

    @Test func everyBadRowIsPrintedWithFlagsAndNothingIsWritten() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        #expect(try cli.run(["vendor", "add", "Acme Outdoor"], env: env).status == 0)
        let before = try logicalDump(cli.vault)
        let file = cli.dir.file("orders.csv")
        try Data("vendor,item,date,order\nAcme Outdoor,Tent,03/14/24,A\nAcme Outdor,Pan,2024-01-01,B\nNew Shop,Cup,2024-01-02,C\n".utf8).write(
            to: URL(fileURLWithPath: file))
        let result = try cli.run(["purchase", "import", file], env: env)
        #expect(result.status == 2)
        #expect(
            result.err == """
                vrm: error: 3 problems; nothing was imported:
                  line 2, column "date": invalid date "03/14/24": use YYYY-MM-DD, or pass --date-format with the file's layout (e.g. %m/%d/%y)
                  line 3, column "vendor": unknown vendor "Acme Outdor" (did you mean "Acme Outdoor"?); add it with `vrm vendor add`, or pass --create-vendors
                  line 4, column "vendor": unknown vendor "New Shop"; add it with `vrm vendor add`, or pass --create-vendors

                """)
        let withVendors = try cli.run(["purchase", "import", file, "--create-vendors"], env: env)
        #expect(withVendors.status == 2 && withVendors.err.contains("1 problems") == false && withVendors.err.contains("line 2, column \"date\""))
        #expect(try logicalDump(cli.vault) == before)
        let fixed = try cli.run(["purchase", "import", file, "--create-vendors", "--date-format", "%m/%d/%y"], env: env)
        #expect(fixed.status == 0 && fixed.out.hasPrefix("New vendors: Acme Outdor, New Shop\nImported 3 purchases"), "\(fixed.err)")
    }

    @Test func fileLevelProblemsAreClearUsageErrors() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        let latin1 = cli.dir.file("latin1.csv")
        try (Data("vendor,item,date\nCaf".utf8) + Data([0xE9]) + Data(",Tea,2024-01-01\n".utf8)).write(to: URL(fileURLWithPath: latin1))
        let folder = cli.dir.file("mails")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let cases: [([String], Int32, String)] = [
            (["purchase", "import", latin1], 2, "is not UTF-8 text (line 2 has the byte 0xE9); save it as UTF-8, or pass --encoding windows-1252"),
            (["purchase", "import", cli.dir.file("missing.csv")], 1, "cannot read"),
            (["purchase", "import", folder], 2, "is a folder; only --preset schema-org reads a folder of files"),
            (["purchase", "import", latin1, "--preset", "amzon"], 2, "unknown --preset \"amzon\" (did you mean \"amazon\"?)"),
            (
                ["purchase", "import", latin1, "--preset", "ofx", "--map", "a=item"], 2,
                "--map applies to the generic csv and json formats, not to --preset ofx"
            ),
            (["purchase", "import", latin1, "--format", "xml"], 2, "--format must be csv or json"),
        ]
        for (args, status, message) in cases {
            let result = try cli.run(args, env: env)
            #expect(result.status == status && result.err.contains(message), "\(args): \(result.err)")
        }
        let latin = try cli.run(["purchase", "import", latin1, "--encoding", "windows-1252", "--create-vendors"], env: env)
        #expect(latin.status == 0 && latin.out.hasPrefix("New vendors: Café\n"), "\(latin.err)")
    }
}
