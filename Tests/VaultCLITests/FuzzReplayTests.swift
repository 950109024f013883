import Foundation
import VaultTestSupport
import Testing

/// Every input in Fuzz/corpus — the seeds and every crash the fuzzer ever found — replays
/// without a crash (scripts/fuzz.sh explains how a crash becomes a corpus file).
@Suite struct FuzzReplayTests {
    static let binary = URL(fileURLWithPath: CLIRunner.binary).deletingLastPathComponent().appendingPathComponent("vrm-fuzz").path

    static func replay(_ target: String) throws -> CLIRunner.Result {
        let corpus = WalkthroughTests.root.appendingPathComponent("Fuzz/corpus/\(target)").path
        return try CLIRunner().run([target, corpus], detached: false, executable: binary)
    }

    @Test(arguments: ["token", "vendor-key", "scope", "header", "header-unlocked", "envelope", "csv", "json"])
    func theCorpusReplaysWithoutACrash(target: String) throws {
        let result = try Self.replay(target)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("\(target): "))
        #expect(!result.out.contains(": 0 inputs"))
    }

    /// Otherwise the replay would stop at the unlock and never reach the reads after it.
    @Test func theUnlockedVaultCorpusHoldsAVaultThatUnlocks() throws {
        let result = try Self.replay("header-unlocked")
        #expect(result.status == 0, "\(result.err)")
        #expect(
            !result.out.contains(" 0 accepted"),
            "no file in Fuzz/corpus/header-unlocked unlocks: make a new one with `vrm-fuzz seed-vault` (see scripts/fuzz.sh)")
    }
}
