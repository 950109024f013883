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

    private init() throws {
        cluster = try ThrowawayPostgres.start()
        env = try cli.initVault()
        env["VRM_RELAY_DATABASE_URL"] = cluster.url
    }

    /// A fixture, made off the cooperative pool (`blocking`), as every call below runs.
    static func make() async throws -> RelayFixture {
        try await blocking { try RelayFixture() }
    }

    deinit { cluster.stop() }

    /// Starts a relay node (another one for each call) on the fixture's database; it sends to
    /// receivers on this machine (the tests' own) unless `loopback` is false.
    @discardableResult
    func startRelay(_ extra: [String] = [], loopback: Bool = true) async throws -> BackgroundCommand {
        let relay = try await background(["relay", "serve", "--port", "0"] + (loopback ? ["--allow-loopback-receivers"] : []) + extra, name: "relay")
        relays.append(relay)
        return relay
    }

    /// A long-running `vrm` command with this fixture's environment.
    func background(_ args: [String], name: String = "server") async throws -> BackgroundCommand {
        let (cli, env) = (cli, env)
        return try await blocking { try BackgroundCommand(cli, args, env: env, name: name) }
    }

    /// Runs `vrm args…` and returns what it did, whatever its status.
    func run(_ args: [String]) async throws -> CLIRunner.Result {
        let (cli, env) = (cli, env)
        return try await blocking { try cli.run(args, env: env) }
    }

    /// `pg_dump` of the relay's database.
    func dump() async throws -> String {
        let cluster = cluster
        return try await blocking { try cluster.dump() }
    }

    func psql(_ sql: String) async throws -> String {
        let cluster = cluster
        return try await blocking { try cluster.psql(sql) }
    }

    /// Runs `vrm args…`, expecting `status`; returns stdout.
    @discardableResult
    func vrm(_ args: [String], status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await run(args)
        #expect(result.status == status, "vrm \(args.joined(separator: " ")): \(result.err)", sourceLocation: sourceLocation)
        return result.out + result.err
    }

    /// A vault with an email, the vendor Acme Outdoor and one bearer grant (its token
    /// returned), linked to a new relay node.
    func linkedWithOneGrant() async throws -> (relay: BackgroundCommand, token: String) {
        let relay = try await startRelay()
        try await vrm(["profile", "set", "email", "alice@example.com"])
        try await vrm(["vendor", "add", "Acme Outdoor"])
        let token = try await grant()
        try await vrm(["relay", "link", relay.url, "--invite", try await invite()])
        return (relay, token)
    }

    func invite() async throws -> String {
        let out = try await vrm(["relay", "invite", "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: String]
        return json?["invite"] ?? ""
    }

    /// A new grant's token (standard output only: notes go to standard error).
    func grant(_ extra: [String] = []) async throws -> String {
        let result = try await run(
            ["grant", "create", "--vendor", "Acme Outdoor", "--scope", "profile.email", "--purpose", "delivery", "--token-only"] + extra)
        #expect(result.status == 0, "vrm grant create: \(result.err)")
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func grantIDs() async throws -> [String] {
        let out = try await vrm(["grant", "list", "--json"])
        let list = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] ?? []
        return list.compactMap { $0["id"] as? String }
    }
}

extension RelaySuites {
    /// The issue's story through the `vrm` binary: a relay on a fresh PostgreSQL, a linked vault,
    /// vendors served with the customer's server stopped, revocation, sync, verify, unlink.
    @Suite("Relay: the customer's story")
    struct RelayStoryTests {
        @Test("link, redeem at the relay, re-materialise, revoke, sync into the audit, unlink")
        func story() async throws {
            let f = try await RelayFixture.make()
            let relay = try await f.startRelay()
            try await f.vrm(["profile", "set", "email", "alice@example.com"])
            try await f.vrm(["profile", "set", "address.shipping", "1 Quiet Lane, Springfield"])
            try await f.vrm(["vendor", "add", "Acme Outdoor"])
            let early = try await f.grant(["--max-uses", "5"])
            let out = try await f.vrm(["relay", "link", relay.url, "--invite", try await f.invite()])
            #expect(out.contains("1 grant(s) pushed"))
            // The customer's own server refuses a linked vault: only the relay counts uses.
            let serve = try await f.run(["serve", "--port", "0"])
            #expect(serve.status == 1 && serve.err.contains("linked to a relay"))

            // A grant issued before and one after the link are both served by the relay.
            let later = try await f.grant()
            var first = try await fetchShare(relay.url, token: early)
            #expect(first.status == 200 && first.etag == "\"v1\"")
            #expect(try await fetchShare(relay.url, token: later).status == 200)
            // vrm redeem, written for vrm serve, works with only the URL changed (the JWK Set of the
            // token's vault comes from the relay).
            let tokenFile = f.cli.dir.file("token")
            try later.write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let redeemed = try await f.run(["redeem", "--url", relay.url, "--token-file", tokenFile, "--json"])
            #expect(redeemed.status == 0, "\(redeemed.err)")
            #expect(redeemed.out.contains("alice@example.com"))

            // A change re-materialises and pushes before the command returns.
            try await f.vrm(["profile", "set", "email", "alice@new.example"])
            first = try await fetchShare(relay.url, token: early, ifNoneMatch: "\"v1\"")
            #expect(first.status == 200 && first.etag == "\"v2\"")

            // A revoke reports success once the relay has it; the next request is refused.
            let ids = try await f.grantIDs()
            let revokedID = try #require(ids.first)
            let revokeOut = try await f.vrm(["grant", "revoke", revokedID])
            #expect(revokeOut.contains("at the relay"))
            var served: [String] = []
            for token in [early, later] where try await fetchShare(relay.url, token: token).status != 403 { served.append(token) }
            let live = try #require(served.count == 1 ? served.first : nil)

            // Sync brings every relay redemption into the audit, and the chain verifies.
            let synced = try await f.vrm(["relay", "sync"])
            #expect(synced.contains("pulled"))
            let audit = try await f.vrm(["audit", "--json"])
            let entries = try JSONSerialization.jsonObject(with: Data(audit.utf8)) as? [[String: Any]] ?? []
            let redemptions = entries.filter { ($0["event"] as? String) == "share.redeemed" }
            #expect(redemptions.count == 5)
            #expect(entries.contains { ($0["event"] as? String) == "share.denied" })
            try await f.vrm(["audit", "verify"])
            let status = try await f.vrm(["relay", "status"])
            #expect(status.contains("Queued changes:   0") && status.contains("0 history entries not yet pulled"))

            // The relay's database holds none of the personal values.
            let dump = try await f.dump()
            #expect(dump.contains("relay_grants"))
            for secret in ["alice", "example.com", "Quiet Lane", "Springfield", "Acme", "delivery", "profile.email", "relay-test", "127.0.0.1"] {
                #expect(!dump.contains(secret), "the relay's database holds \(secret)")
            }
            #expect(!dump.contains(early) && !dump.contains(later))

            // Unlink deletes everything of the vault there, checked; the vault serves itself again.
            try await f.vrm(["relay", "unlink"])
            let after = try await f.dump()
            #expect(!after.contains("INSERT INTO public.relay_grants") && !after.contains("INSERT INTO public.relay_vaults"))
            #expect(try await fetchShare(relay.url, token: live).status == 401)
            let local = try await f.background(["serve", "--port", "0"])
            #expect(try await fetchShare(local.url, token: live).status == 200)
        }

        @Test("an unreachable relay: the revoke happens here, is queued, exits 6, and the next command delivers it")
        func unreachable() async throws {
            let f = try await RelayFixture.make()
            let (relay, token) = try await f.linkedWithOneGrant()
            #expect(try await fetchShare(relay.url, token: token).status == 200)
            relay.stop()

            let id = try #require(try await f.grantIDs().first)
            let revoke = try await f.run(["grant", "revoke", id])
            #expect(revoke.status == 6)
            #expect(revoke.err.contains("revoked in this vault") && revoke.err.contains("queued"))
            #expect(!revoke.out.contains("Revoked grant"))
            // The revoke is local already: the grant is revoked here whatever the relay says.
            #expect(try await f.vrm(["grant", "show", id]).contains("revoked"))
            #expect(try await f.vrm(["relay", "status"]).contains("Queued changes:   1"))
            // A read-only command says the change is still queued, but does not fail.
            let list = try await f.run(["grant", "list"])
            #expect(list.status == 0 && list.err.contains("queued"))

            // The next node (same database) still has the grant active until the queue is delivered.
            let second = try await f.startRelay()
            #expect(try await fetchShare(second.url, token: token).status == 200)
            let sync = try await f.vrm(["relay", "sync"], status: 6)
            #expect(sync.contains(relay.url))
            // The link names the first node's URL; re-link is not needed: start it again at that port.
            let restarted = try await f.background(["relay", "serve", "--port", String(relay.port)], name: "relay")
            // The queued revocation counts as pushed (an outside check saw "0 grant(s) pushed").
            #expect(try await f.vrm(["relay", "sync"]).contains("1 grant pushed"))
            #expect(try await fetchShare(restarted.url, token: token).status == 403)
            #expect(try await f.vrm(["relay", "status"]).contains("Queued changes:   0"))
            try await f.vrm(["audit", "verify"])
        }

        @Test("after a key rotation the relay seals to the new key, on a node that had cached the old one")
        func keyRotation() async throws {
            let f = try await RelayFixture.make()
            let (relay, token) = try await f.linkedWithOneGrant()
            #expect(try await fetchShare(relay.url, token: token).status == 200)
            let newPassphrase = f.cli.writePassphrase("a brand new passphrase", name: "pw2")
            try await f.vrm(["passphrase", "change", "--rotate-key", "--new-passphrase-file", newPassphrase])
            f.env["VRM_PASSPHRASE_FILE"] = newPassphrase
            let vaultKey = try RawDatabase.open(f.cli.vault).strings("SELECT lower(hex(box_public_key)) FROM vault_header")
            let relayKey = try await f.psql("SELECT encode(box_key, 'hex') FROM relay_vaults").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(vaultKey == [relayKey])
            #expect(try await fetchShare(relay.url, token: token).status == 200)
            try await f.vrm(["relay", "sync"])
            try await f.vrm(["audit", "verify"])
            #expect(try await f.vrm(["relay", "status"]).contains("Queued changes:   0"))
        }

        @Test("vrm demo --relay runs the whole story and checks every step")
        func demo() async throws {
            let result = try await blocking { try CLIRunner().run(["demo", "--relay"]) }
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("Bolt gets 403 revoked from the relay"))
            #expect(result.out.contains("none of 8 personal values"))
        }

        @Test("bad relay input: an unreachable URL, a used invite, a wrong invite, a second link")
        func badInput() async throws {
            let f = try await RelayFixture.make()
            let relay = try await f.startRelay()
            let code = try await f.invite()
            let nowhere = try await f.run(["relay", "link", "http://127.0.0.1:9", "--invite", code])
            #expect(nowhere.status == 6 && nowhere.err.contains("cannot reach the relay"))
            let badURL = try await f.run(["relay", "link", "ftp://relay", "--invite", code])
            #expect(badURL.status != 0 && badURL.err.contains("not a relay URL"))
            let plain = try await f.run(["relay", "link", "http://relay.example:8090", "--invite", code])
            #expect(plain.status != 0 && plain.err.contains("https"))
            let wrong = try await f.run(["relay", "link", relay.url, "--invite", "vrmi_nope"])
            #expect(wrong.status == 6 && wrong.err.contains("invalid-invite"))
            try await f.vrm(["relay", "link", relay.url, "--invite", code])
            let again = try await f.run(["relay", "link", relay.url, "--invite", code])
            #expect(again.status == 1 && again.err.contains("linked to"))
            // The used invite does not enrol another vault.
            let (url, database) = (relay.url, f.cluster.url)
            let reused = try await blocking {
                let other = CLIRunner()
                var otherEnv = try other.initVault()
                otherEnv["VRM_RELAY_DATABASE_URL"] = database
                return try other.run(["relay", "link", url, "--invite", code], env: otherEnv)
            }
            #expect(reused.status == 6 && reused.err.contains("invalid-invite"))
            // A password in argv is refused before anything connects.
            let argv = try await f.run(["relay", "invite", "--database", "postgres://vrm:hunter2@127.0.0.1:\(f.cluster.port)/postgres"])
            #expect(argv.status != 0 && argv.err.contains("PGPASSWORD") && !argv.err.contains("hunter2"))
            let down = try await f.run(["relay", "invite", "--database", "postgres://vrm@127.0.0.1:9/postgres?sslmode=disable"])
            #expect(down.status == 6 && down.err.contains("cannot reach the relay's PostgreSQL"))
        }
    }
}
