import Foundation
import Testing
import VaultTestSupport

/// The issue-17 repros as a user meets them: the vault file changed with SQL (no passphrase),
/// then the `vrm` command. Each is refused with exit 4 naming the row; none traps.
@Suite struct WritableFileCLITests {
    let cli = CLIRunner()
    let env: [String: String]

    init() throws {
        env = try cli.initVault()
        for args in [
            ["vendor", "add", "Acme Outdoor"], ["vendor", "add", "Bolt Bikes"],
            ["purchase", "add", "--vendor", "Bolt Bikes", "--item", "Lamp", "--gift-for", "Sam"],
            ["case", "open", "--vendor", "Bolt Bikes", "--subject", "Private matter"],
            ["grant", "create", "--vendor", "Acme Outdoor", "--scope", "purchases:own", "--scope", "cases:own", "--purpose", "warranty"],
        ] {
            let result = try cli.run(args, env: env)
            guard result.status == 0 else { throw CLIRunnerError.failed(result.err) }
        }
    }

    @Test func anotherVendorsRecordsAreNotSignedIntoAShare() throws {
        // Bolt's purchase and case moved to Acme in the clear, as in the repro 1.
        try rawExecute(
            cli.vault,
            "UPDATE purchases SET vendor_id = (SELECT id FROM vendors WHERE id <> purchases.vendor_id LIMIT 1); "
                + "UPDATE cases SET vendor_id = (SELECT id FROM vendors WHERE id <> cases.vendor_id LIMIT 1)")
        let result = try cli.run(["vendor", "stage", "Acme Outdoor", "commitment"], env: env)
        #expect(result.status == 4, "\(result.err)")
        #expect(result.err.contains("record purchases/p_") || result.err.contains("records digest"), "\(result.err)")
    }

    @Test func aRevokedGrantIsNotRevivedAndAWrongTypeDoesNotTrap() throws {
        let id = try #require(try RawDatabase.open(cli.vault).strings("SELECT id FROM grants").first)
        #expect(try cli.run(["grant", "revoke", id], env: env).status == 0)
        try rawExecute(cli.vault, "UPDATE grants SET revoked_at = NULL")
        let revived = try cli.run(["profile", "set", "name", "Jo"], env: env)
        #expect(revived.status == 4, "\(revived.err)")
        try rawExecute(cli.vault, "UPDATE grants SET max_uses = 'ten'")
        let listed = try cli.run(["grant", "list"], env: env)
        #expect(listed.status == 4, "\(listed.err)")
        #expect(listed.err.contains("grants row \(id)") || listed.err.contains("grants/\(id)"), "\(listed.err)")
    }

    @Test func aForgedHistoryEntryFailsVerify() throws {
        try rawExecute(
            cli.vault,
            "INSERT INTO audit (seq, at, event, writer_id, body, hash) SELECT seq + 1, at, 'grant.issued', writer_id, body, hash FROM audit ORDER BY seq DESC LIMIT 1"
        )
        let verify = try cli.run(["audit", "verify"], env: env)
        #expect(verify.status == 4)
        #expect(verify.err.contains("share history damaged at entry"), "\(verify.err)")
        #expect(try cli.run(["audit"], env: env).status == 4)
    }
}
