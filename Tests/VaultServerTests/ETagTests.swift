import Testing
import VaultCore
@testable import VaultServer

/// The share version on the wire: `ETag: "vN"`, and `If-None-Match` read as the versions held.
@Suite struct ETagTests {
    @Test func theETagOfAVersionIsItsQuotedName() {
        #expect(ETag.text(version: 1) == "\"v1\"")
        #expect(ETag.text(version: 42) == "\"v42\"")
    }

    @Test(arguments: [
        ("\"v1\"", HeldVersions.versions([1])),
        ("W/\"v2\"", .versions([2])),
        (" \"v1\" , W/\"v3\",\"v7\" ", .versions([1, 3, 7])),
        ("*", .any),
        ("\"v1\", *", .any),
        ("W/*", .any),
        ("\"v01\"", .versions([])),
        ("\"v-1\"", .versions([])),
        ("\"v+1\"", .versions([])),
        ("v1", .versions([])),
        ("\"1\"", .versions([])),
        ("\"v99999999999999999999999\"", .versions([])),
        ("", .versions([])),
        ("garbage, \"v5\"", .versions([5])),
        ("\u{00A0}\"v1\"\u{3000}", .versions([1])),
        ("\t\"v4\"\t", .versions([4])),
    ])
    func ifNoneMatchNamesTheVersionsItHolds(_ header: String, _ held: HeldVersions) {
        #expect(ETag.held(header) == held)
    }

    @Test func noHeaderHoldsNothing() {
        #expect(ETag.held(nil) == nil)
    }

    @Test func heldVersionsIncludeWhatTheyName() {
        #expect(HeldVersions.any.includes(12))
        #expect(HeldVersions.versions([1, 3]).includes(3))
        #expect(!HeldVersions.versions([1, 3]).includes(2))
        #expect(!HeldVersions.versions([]).includes(1))
    }
}
