import Foundation
import Testing

/// Every input in Fuzz/corpus — the seeds and every crash the fuzzer ever found — replays
/// without a crash (scripts/fuzz.sh explains how a crash becomes a corpus file).
@Suite struct FuzzReplayTests {
    @Test(arguments: ["token", "vendor-key", "scope", "header", "envelope", "csv", "json"])
    func theCorpusReplaysWithoutACrash(target: String) throws {
        let binary = URL(fileURLWithPath: CLIRunner.binary).deletingLastPathComponent().appendingPathComponent("vrm-fuzz").path
        let corpus = WalkthroughTests.root.appendingPathComponent("Fuzz/corpus/\(target)").path
        let result = try CLIRunner().run([target, corpus], detached: false, executable: binary)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("\(target): "))
        #expect(!result.out.contains(": 0 inputs"))
    }
}
