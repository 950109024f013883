import Foundation
import Testing
@testable import VaultCLI

/// `VRM_PASSPHRASE` is read once and then leaves the process's environment.
@Suite(.serialized) struct PassphraseEnvironmentTests {
    @Test func thePassphraseVariableIsRemovedOnceRead() throws {
        setenv("VRM_PASSPHRASE", "correct horse battery staple", 1)
        unsetenv("VRM_PASSPHRASE_FILE")
        let key = try PassphraseReader.read(file: nil, confirm: false, prompt: "test")
        #expect(key.count == "correct horse battery staple".utf8.count)
        #expect(getenv("VRM_PASSPHRASE") == nil)
    }
}
