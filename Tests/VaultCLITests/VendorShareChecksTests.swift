import Foundation
import Testing
@testable import VaultCLI
import VaultCore
import VaultCrypto
import VaultTestSupport

/// What `vrm redeem` refuses: a share without its ETag or with another, and a share older than
/// one already received for the same grant.
@Suite struct VendorShareChecksTests {
    /// A bearer share as the server answers it.
    static func share() throws -> (TemporaryDirectory, [UInt8]) {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme")
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .delivery, expiresAt: nil))
        let outcome = try Redeemer(database: vault.database)
            .redeem(RedemptionRequest(token: issued.token.encoded()[...], client: "127.0.0.1", userAgent: nil, held: nil))
        guard case .share(let body, _, _) = outcome else { throw CLIError(description: "no share") }
        return (dir, body)
    }

    @Test func aShareMustCarryTheETagOfItsVersion() throws {
        let (dir, body) = try Self.share()
        defer { withExtendedLifetime(dir) {} }
        let client = VendorClient(baseURL: URL(fileURLWithPath: "/"), keyPair: nil, pinnedSigner: nil)
        guard case .share(let document, _, _, _) = try client.open(Data(body), etag: "\"v1\"") else { return #expect(Bool(false)) }
        #expect(document.version == 1)
        #expect(throws: ShareFormatError.self) { try client.open(Data(body), etag: nil) }
        #expect(throws: ShareFormatError.self) { try client.open(Data(body), etag: "\"v2\"") }
    }

    @Test func anOlderVersionThanOneReceivedIsRefused() throws {
        let dir = TemporaryDirectory()
        let versions = ShareVersions(directory: dir.file("share-versions"))
        try versions.accept(vaultID: "v", grantID: "gr_1", version: 3)
        try versions.accept(vaultID: "v", grantID: "gr_1", version: 3)
        try versions.accept(vaultID: "v", grantID: "gr_1", version: 4)
        #expect(throws: CLIError.self) { try versions.accept(vaultID: "v", grantID: "gr_1", version: 2) }
        #expect(try versions.newest(vaultID: "v", grantID: "gr_1") == 4)
        // Another grant, or the same grant id of another vault, has its own record.
        try versions.accept(vaultID: "v", grantID: "gr_2", version: 1)
        try versions.accept(vaultID: "w", grantID: "gr_1", version: 1)
    }

    @Test func theRecordIsNamedByAHashNotByWhatTheServerSent() throws {
        let versions = ShareVersions(directory: "/state")
        let path = versions.path(vaultID: "../../etc", grantID: "/passwd")
        #expect(path.hasPrefix("/state/"))
        #expect(!path.dropFirst("/state/".count).contains("/"))
        #expect(!path.contains(".."))
    }
}
