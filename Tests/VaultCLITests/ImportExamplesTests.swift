import Foundation
import Testing
import VaultTestSupport

/// The files of examples/import, imported with the options their README documents, and the
/// help text that shows each preset.
@Suite struct ImportExamplesTests {
    static let examples = WalkthroughTests.root.appendingPathComponent("examples/import")

    /// The `vrm purchase import …` lines of examples/import/README.md, split as a shell would.
    static func documentedCommands() throws -> [[String]] {
        let readme = try String(contentsOf: examples.appendingPathComponent("README.md"), encoding: .utf8)
        return readme.split(separator: "\n").filter { $0.hasPrefix("vrm purchase import ") }.map { words(String($0.dropFirst(4))) }
    }

    /// Words with "…" and '…' quoting (no escapes: the README needs none).
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current: String?
        var quote: Character?
        for c in line {
            if let open = quote {
                if c == open { quote = nil } else { current?.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
                current = current ?? ""
            } else if c == " " {
                if let word = current { words.append(word) }
                current = nil
            } else {
                current = (current ?? "") + String(c)
            }
        }
        if let word = current { words.append(word) }
        return words
    }

    @Test func everyDocumentedExampleImportsAndThenAddsNothing() throws {
        let commands = try Self.documentedCommands()
        #expect(commands.count == 7)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.examples.path).filter { $0 != "README.md" }
        for file in files { #expect(commands.contains { $0.contains("examples/import/\(file)") }, "\(file) has no documented command") }
        for command in commands {
            let cli = CLIRunner()
            let env = try cli.initVault()
            let args = command.map { $0.hasPrefix("examples/import/") ? WalkthroughTests.root.appendingPathComponent($0).path : $0 }
            let dry = try cli.run(args + ["--dry-run"], env: env)
            #expect(dry.status == 0 && dry.out.contains("Nothing was written."), "\(command): \(dry.err)")
            let first = try cli.run(args, env: env)
            #expect(first.status == 0, "\(command): \(first.err)")
            #expect(first.out.contains("Imported 3 purchases") || first.out.contains("Imported 4 purchases"), "\(command): \(first.out)")
            #expect(
                dry.out.split(separator: "\n").last?.replacingOccurrences(of: "Would import", with: "Imported").replacingOccurrences(
                    of: " Nothing was written.", with: "")
                    == first.out.split(separator: "\n").last.map(String.init))
            let again = try cli.run(args, env: env)
            #expect(again.status == 0 && again.out.hasPrefix("Imported 0 purchases;"), "\(command): \(again.out) \(again.err)")
            #expect(!again.out.contains("New vendors"))
        }
    }

    @Test func aFolderOfMailsIsReadFileByFile() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        let folder = cli.dir.file("mails")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("<p>no order</p>".utf8).write(to: URL(fileURLWithPath: folder + "/a.html"))
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: folder + "/.DS_Store"))
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.examples.appendingPathComponent("order-email.html").path, toPath: folder + "/b.html")
        let mails = try cli.run(["purchase", "import", folder, "--preset", "schema-org", "--create-vendors"], env: env)
        #expect(
            mails.out == "New vendors: Bolt Bikes\nImported 3 purchases; 0 already recorded (skipped); 1 cancelled left out; 1 file without an order.\n",
            "\(mails.err)")
        let empty = cli.dir.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try cli.run(["purchase", "import", empty, "--preset", "schema-org"], env: env)
        #expect(none.status == 2 && none.err.contains("holds no files to read"))
    }

    @Test func theHelpShowsAnExampleForEachPreset() throws {
        let help = try CLIRunner().run(["purchase", "import", "--help"])
        for needle in [
            "--preset amazon", "--preset schema-org", "--preset ofx", "--preset camt053", "--map", "--date-format", "--delimiter", "--create-vendors", " - ",
        ] {
            #expect(help.out.contains(needle), "\(needle)")
        }
    }
}
