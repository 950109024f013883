import Foundation
import Testing
import VaultTestSupport

/// `vrm grant create` prints the grant card; `vrm grant card` prints it again without the token.
@Suite struct GrantCardTests {
    @Test func theCardCarriesEverythingAVendorNeeds() throws {
        let cli = CLIRunner()
        let env = try cli.initVault()
        try #require(try cli.run(["vendor", "add", "Acme"], env: env).status == 0)
        let created = try cli.run(
            ["grant", "create", "--vendor", "Acme", "--scope", "profile", "--purpose", "delivery", "--endpoint", "https://vault.example", "--json"],
            env: env)
        #expect(created.status == 0, "\(created.err)")
        let card = try #require(try JSONSerialization.jsonObject(with: Data(created.out.utf8)) as? [String: Any])
        let grantID = try #require(card["grant_id"] as? String)
        #expect((card["token"] as? String)?.hasPrefix("vrm_") == true)
        #expect((card["vault_id"] as? String)?.count == 32)
        #expect(card["endpoint"] as? String == "https://vault.example")
        #expect(card["share_url"] as? String == "https://vault.example/v1/share")
        #expect(card["jwks_url"] as? String == "https://vault.example/.well-known/jwks.json")
        #expect(card["binding"] as? String == "bearer")
        #expect((card["signing_key"] as? String).flatMap { Data(base64Encoded: $0) }?.count == 32)
        #expect((card["signing_key_id"] as? String)?.count == 43)

        let again = try cli.run(["grant", "card", grantID], env: env.merging(["VRM_ENDPOINT": "https://vault.example"]) { $1 })
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.contains("https://vault.example/v1/share"))
        #expect(again.out.contains("not stored"))
        #expect(!again.out.contains("vrm_"))
        let bad = try cli.run(["grant", "card", grantID, "--endpoint", "ftp://x"], env: env)
        #expect(bad.status == 2)
    }
}
