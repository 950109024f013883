import Foundation
import Testing
import VaultRelay
import VaultTestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A vendor's GET /v1/share, as curl would send it: status, ETag and body.
func fetchShare(_ base: String, token: String, ifNoneMatch: String? = nil) async throws -> (status: Int, etag: String?, body: String) {
    var request = URLRequest(url: try #require(URL(string: base + "/v1/share")))
    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    request.setValue("relay-test/1", forHTTPHeaderField: "User-Agent")
    if let ifNoneMatch { request.setValue(ifNoneMatch, forHTTPHeaderField: "If-None-Match") }
    request.cachePolicy = .reloadIgnoringLocalCacheData
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as? HTTPURLResponse
    return (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "ETag"), String(decoding: data, as: UTF8.self))
}

/// A customer with a vault, a relay on a throwaway PostgreSQL, and the `vrm` binary between them.
final class RelayFixture: @unchecked Sendable {
    let cluster: ThrowawayPostgres
    let cli = CLIRunner()
    var env: [String: String]
    var relays: [BackgroundCommand] = []

    init() throws {
        cluster = try ThrowawayPostgres.start()
        env = try cli.initVault()
        env["VRM_RELAY_DATABASE_URL"] = cluster.url
    }

    deinit { cluster.stop() }

    /// Starts a relay node (another one for each call) on the fixture's database.
    @discardableResult
    func startRelay(_ extra: [String] = []) throws -> BackgroundCommand {
        let relay = try BackgroundCommand(cli, ["relay", "serve", "--port", "0"] + extra, env: env, name: "relay")
        relays.append(relay)
        return relay
    }

    /// Runs `vrm args…`, expecting `status`; returns stdout.
    @discardableResult
    func vrm(_ args: [String], status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try cli.run(args, env: env)
        #expect(result.status == status, "vrm \(args.joined(separator: " ")): \(result.err)", sourceLocation: sourceLocation)
        return result.out + result.err
    }

    /// A vault with an email, the vendor Acme Outdoor and one bearer grant (its token
    /// returned), linked to a new relay node.
    func linkedWithOneGrant() throws -> (relay: BackgroundCommand, token: String) {
        let relay = try startRelay()
        try vrm(["profile", "set", "email", "alice@example.com"])
        try vrm(["vendor", "add", "Acme Outdoor"])
        let token = try grant()
        try vrm(["relay", "link", relay.url, "--invite", try invite()])
        return (relay, token)
    }

    func invite() throws -> String {
        let out = try vrm(["relay", "invite", "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: String]
        return json?["invite"] ?? ""
    }

    func grant(_ extra: [String] = []) throws -> String {
        try vrm(["grant", "create", "--vendor", "Acme Outdoor", "--scope", "profile.email", "--purpose", "delivery", "--token-only"] + extra)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func grantIDs() throws -> [String] {
        let out = try vrm(["grant", "list", "--json"])
        let list = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] ?? []
        return list.compactMap { $0["id"] as? String }
    }
}

/// The issue's story through the `vrm` binary: a relay on a fresh PostgreSQL, a linked vault,
/// vendors served with the customer's server stopped, revocation, sync, verify, unlink.
@Suite("Relay: the customer's story", .serialized)
struct RelayStoryTests {
    @Test("link, redeem at the relay, re-materialise, revoke, sync into the audit, unlink")
    func story() async throws {
        let f = try RelayFixture()
        let relay = try f.startRelay()
        try f.vrm(["profile", "set", "email", "alice@example.com"])
        try f.vrm(["profile", "set", "address.shipping", "1 Quiet Lane, Springfield"])
        try f.vrm(["vendor", "add", "Acme Outdoor"])
        let early = try f.grant(["--max-uses", "5"])
        let out = try f.vrm(["relay", "link", relay.url, "--invite", try f.invite()])
        #expect(out.contains("1 grant(s) pushed"))
        // The customer's own server refuses a linked vault: only the relay counts uses.
        let serve = try f.cli.run(["serve", "--port", "0"], env: f.env)
        #expect(serve.status == 1 && serve.err.contains("linked to a relay"))

        // A grant issued before and one after the link are both served by the relay.
        let later = try f.grant()
        var first = try await fetchShare(relay.url, token: early)
        #expect(first.status == 200 && first.etag == "\"v1\"")
        #expect(try await fetchShare(relay.url, token: later).status == 200)
        // vrm redeem, written for vrm serve, works with only the URL changed (the JWK Set of the
        // token's vault comes from the relay).
        let tokenFile = f.cli.dir.file("token")
        try later.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let redeemed = try f.cli.run(["redeem", "--url", relay.url, "--token-file", tokenFile, "--json"], env: f.env)
        #expect(redeemed.status == 0, "\(redeemed.err)")
        #expect(redeemed.out.contains("alice@example.com"))

        // A change re-materialises and pushes before the command returns.
        try f.vrm(["profile", "set", "email", "alice@new.example"])
        first = try await fetchShare(relay.url, token: early, ifNoneMatch: "\"v1\"")
        #expect(first.status == 200 && first.etag == "\"v2\"")

        // A revoke reports success once the relay has it; the next request is refused.
        let ids = try f.grantIDs()
        let revokedID = try #require(ids.first)
        let revokeOut = try f.vrm(["grant", "revoke", revokedID])
        #expect(revokeOut.contains("at the relay"))
        var served: [String] = []
        for token in [early, later] where try await fetchShare(relay.url, token: token).status != 403 { served.append(token) }
        let live = try #require(served.count == 1 ? served.first : nil)

        // Sync brings every relay redemption into the audit, and the chain verifies.
        let synced = try f.vrm(["relay", "sync"])
        #expect(synced.contains("pulled"))
        let audit = try f.vrm(["audit", "--json"])
        let entries = try JSONSerialization.jsonObject(with: Data(audit.utf8)) as? [[String: Any]] ?? []
        let redemptions = entries.filter { ($0["event"] as? String) == "share.redeemed" }
        #expect(redemptions.count == 5)
        #expect(entries.contains { ($0["event"] as? String) == "share.denied" })
        try f.vrm(["audit", "verify"])
        let status = try f.vrm(["relay", "status"])
        #expect(status.contains("Queued changes:   0") && status.contains("0 history entries not yet pulled"))

        // The relay's database holds none of the personal values.
        let dump = try f.cluster.dump()
        #expect(dump.contains("relay_grants"))
        for secret in ["alice", "example.com", "Quiet Lane", "Springfield", "Acme", "delivery", "profile.email", "relay-test", "127.0.0.1"] {
            #expect(!dump.contains(secret), "the relay's database holds \(secret)")
        }
        #expect(!dump.contains(early) && !dump.contains(later))

        // Unlink deletes everything of the vault there, checked; the vault serves itself again.
        try f.vrm(["relay", "unlink"])
        let after = try f.cluster.dump()
        #expect(!after.contains("INSERT INTO public.relay_grants") && !after.contains("INSERT INTO public.relay_vaults"))
        #expect(try await fetchShare(relay.url, token: live).status == 401)
        let local = try BackgroundCommand(f.cli, ["serve", "--port", "0"], env: f.env)
        #expect(try await fetchShare(local.url, token: live).status == 200)
    }

    @Test("an unreachable relay: the revoke happens here, is queued, exits 6, and the next command delivers it")
    func unreachable() async throws {
        let f = try RelayFixture()
        let (relay, token) = try f.linkedWithOneGrant()
        #expect(try await fetchShare(relay.url, token: token).status == 200)
        relay.stop()

        let id = try #require(try f.grantIDs().first)
        let revoke = try f.cli.run(["grant", "revoke", id], env: f.env)
        #expect(revoke.status == 6)
        #expect(revoke.err.contains("revoked in this vault") && revoke.err.contains("queued"))
        #expect(!revoke.out.contains("Revoked grant"))
        // The revoke is local already: the grant is revoked here whatever the relay says.
        #expect(try f.vrm(["grant", "show", id]).contains("revoked"))
        #expect(try f.vrm(["relay", "status"]).contains("Queued changes:   1"))
        // A read-only command says the change is still queued, but does not fail.
        let list = try f.cli.run(["grant", "list"], env: f.env)
        #expect(list.status == 0 && list.err.contains("queued"))

        // The next node (same database) still has the grant active until the queue is delivered.
        let second = try f.startRelay()
        #expect(try await fetchShare(second.url, token: token).status == 200)
        let sync = try f.vrm(["relay", "sync"], status: 6)
        #expect(sync.contains(relay.url))
        // The link names the first node's URL; re-link is not needed: start it again at that port.
        let restarted = try BackgroundCommand(f.cli, ["relay", "serve", "--port", String(relay.port)], env: f.env, name: "relay")
        try f.vrm(["relay", "sync"])
        #expect(try await fetchShare(restarted.url, token: token).status == 403)
        #expect(try f.vrm(["relay", "status"]).contains("Queued changes:   0"))
        try f.vrm(["audit", "verify"])
    }

    @Test("after a key rotation the relay seals to the new key, on a node that had cached the old one")
    func keyRotation() async throws {
        let f = try RelayFixture()
        let (relay, token) = try f.linkedWithOneGrant()
        #expect(try await fetchShare(relay.url, token: token).status == 200)
        let newPassphrase = f.cli.writePassphrase("a brand new passphrase", name: "pw2")
        try f.vrm(["passphrase", "change", "--rotate-key", "--new-passphrase-file", newPassphrase])
        f.env["VRM_PASSPHRASE_FILE"] = newPassphrase
        let vaultKey = try RawDatabase.open(f.cli.vault).strings("SELECT lower(hex(box_public_key)) FROM vault_header")
        let relayKey = try f.cluster.psql("SELECT encode(box_key, 'hex') FROM relay_vaults").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(vaultKey == [relayKey])
        #expect(try await fetchShare(relay.url, token: token).status == 200)
        try f.vrm(["relay", "sync"])
        try f.vrm(["audit", "verify"])
        #expect(try f.vrm(["relay", "status"]).contains("Queued changes:   0"))
    }

    @Test("vrm demo --relay runs the whole story and checks every step")
    func demo() throws {
        let result = try CLIRunner().run(["demo", "--relay"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("Bolt gets 403 revoked from the relay"))
        #expect(result.out.contains("none of 8 personal values"))
    }

    @Test("bad relay input: an unreachable URL, a used invite, a wrong invite, a second link")
    func badInput() throws {
        let f = try RelayFixture()
        let relay = try f.startRelay()
        let code = try f.invite()
        let nowhere = try f.cli.run(["relay", "link", "http://127.0.0.1:9", "--invite", code], env: f.env)
        #expect(nowhere.status == 6 && nowhere.err.contains("cannot reach the relay"))
        let badURL = try f.cli.run(["relay", "link", "ftp://relay", "--invite", code], env: f.env)
        #expect(badURL.status != 0 && badURL.err.contains("not a relay URL"))
        let plain = try f.cli.run(["relay", "link", "http://relay.example:8090", "--invite", code], env: f.env)
        #expect(plain.status != 0 && plain.err.contains("https"))
        let wrong = try f.cli.run(["relay", "link", relay.url, "--invite", "vrmi_nope"], env: f.env)
        #expect(wrong.status == 6 && wrong.err.contains("invalid-invite"))
        try f.vrm(["relay", "link", relay.url, "--invite", code])
        let again = try f.cli.run(["relay", "link", relay.url, "--invite", code], env: f.env)
        #expect(again.status == 1 && again.err.contains("linked to"))
        // The used invite does not enrol another vault.
        let other = CLIRunner()
        var otherEnv = try other.initVault()
        otherEnv["VRM_RELAY_DATABASE_URL"] = f.cluster.url
        let reused = try other.run(["relay", "link", relay.url, "--invite", code], env: otherEnv)
        #expect(reused.status == 6 && reused.err.contains("invalid-invite"))
        // A password in argv is refused before anything connects.
        let argv = try f.cli.run(["relay", "invite", "--database", "postgres://vrm:hunter2@127.0.0.1:\(f.cluster.port)/postgres"], env: f.env)
        #expect(argv.status != 0 && argv.err.contains("PGPASSWORD") && !argv.err.contains("hunter2"))
        let down = try f.cli.run(["relay", "invite", "--database", "postgres://vrm@127.0.0.1:9/postgres?sslmode=disable"], env: f.env)
        #expect(down.status == 6 && down.err.contains("cannot reach the relay's PostgreSQL"))
    }
}
