import Foundation
import Testing
import VaultTestSupport

/// docs/man/vrm.1 is generated (scripts/man.sh); this fails when a command or option was added
/// or renamed without regenerating it.
@Suite struct ManualTests {
    static let manual = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/man/vrm.1").path

    @Test func theManualNamesEveryCommandAndOptionOfTheBinary() throws {
        let page = try String(contentsOfFile: Self.manual, encoding: .utf8)
        let dump = try CLIRunner().run(["--experimental-dump-help"])
        #expect(dump.status == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.out.utf8)) as? [String: Any])
        var missing: [String] = []
        func walk(_ command: [String: Any], path: String) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    if let long = name["name"] as? String, !page.contains("Fl -\(long)"), !page.contains(", -\(long)\n") { missing.append("\(path) --\(long)") }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                guard let name = sub["commandName"] as? String else { continue }
                if !page.contains(".It Em \(name)\n") { missing.append("\(path) \(name)") }
                walk(sub, path: "\(path) \(name)")
            }
        }
        walk(try #require(root["command"] as? [String: Any]), path: "vrm")
        #expect(missing.isEmpty, "not in docs/man/vrm.1 (run scripts/man.sh): \(missing)")
        // Completion scripts come from the same definitions.
        for shell in ["bash", "zsh", "fish"] {
            let script = try CLIRunner().run(["--generate-completion-script", shell])
            #expect(script.status == 0 && script.out.contains("unlock") && script.out.contains("import"), "\(shell)")
        }
    }
}
