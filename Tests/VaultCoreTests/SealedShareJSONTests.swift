import Foundation
import Testing
import VaultCore

@Suite struct SealedShareJSONTests {
    @Test func handBuiltJSONEqualsTheEncodersOutput() throws {
        let share = SealedShare(grantID: "gr_abcdefghijklmnop", version: 12, sealed: Array(repeating: 0xAB, count: 1100))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(share.jsonBytes == Array(try encoder.encode(share)))
    }
}
