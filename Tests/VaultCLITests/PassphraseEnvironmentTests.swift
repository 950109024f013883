import Foundation
import Testing
@testable import VaultCLI

/// `VRM_PASSPHRASE` is taken into secure memory once and leaves the process's environment.
@Suite(.serialized) struct PassphraseEnvironmentTests {
    @Test func thePassphraseVariableLeavesTheEnvironmentOnceTaken() throws {
        setenv("VRM_PASSPHRASE", "correct horse battery staple", 1)
        unsetenv("VRM_PASSPHRASE_FILE")
        try PassphraseReader.takeFromEnvironment()
        #expect(getenv("VRM_PASSPHRASE") == nil)
        #expect(ProcessInfo.processInfo.environment["VRM_PASSPHRASE"] == nil)
        #expect(PassphraseReader.environmentHadPassphrase)
        let key = try PassphraseReader.read(file: nil, confirm: false, prompt: "test")
        #expect(key.count == "correct horse battery staple".utf8.count)
    }
}
