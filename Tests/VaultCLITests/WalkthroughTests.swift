import Foundation
import Testing
import VaultTestSupport

@Suite struct WalkthroughTests {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func theWalkthroughScriptRunsEveryStep() throws {
        let cli = CLIRunner()
        let binDir = URL(fileURLWithPath: CLIRunner.binary).deletingLastPathComponent().path
        let result = try cli.run(
            [Self.root.appendingPathComponent("examples/walkthrough.sh").path],
            env: ["PATH": "\(binDir):/usr/bin:/bin", "TMPDIR": cli.dir.path], executable: "/bin/bash")
        #expect(result.status == 0, "\(result.out.suffix(2000))\n\(result.err.suffix(2000))")
        #expect(result.out.contains("walkthrough: all steps passed"))
    }

    @Test func theDemoRunsAndChecksItself() throws {
        let cli = CLIRunner()
        let result = try cli.run(["demo"], env: ["TMPDIR": cli.dir.path])
        #expect(result.status == 0, "\(result.out.suffix(2000))\n\(result.err)")
        for line in ["Bolt gets 403", "a made-up token gets 401", "intact:", "0 of 9 values found", "approves profile.email only"] {
            #expect(result.out.contains(line), "missing: \(line)")
        }
        // It cleans up after itself.
        let left = try FileManager.default.contentsOfDirectory(atPath: cli.dir.path).filter { $0.hasPrefix("vrm-demo-") }
        #expect(left.isEmpty)
    }
}
