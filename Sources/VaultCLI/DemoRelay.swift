import Foundation
import Hummingbird
import Logging
import VaultCore
import VaultCrypto
import VaultRelay
import VaultServer

/// `vrm demo --relay`: the relay story, every step checked.
extension Demo {
    mutating func runRelay() async throws {
        let path = directory + "/vault.db"
        say("Create a vault with a profile and two vendors (Bolt Bikes brings its own key)")
        let vault = try Vault.create(path: path, passphrase: try SecretKey.random(count: 24), kdf: .interactive)
        let profile = [("name", "Jo Example"), ("email", "jo@example.org"), ("address.shipping", "12 Quokka Lane, Springfield")]
        for (key, value) in profile { try vault.profile.set(key, value: value) }
        try vault.vendors.add(name: "Acme Outdoor", site: "https://acme.example")
        let boltKey = try BoxKeyPair.generate()
        try vault.vendors.add(name: "Bolt Bikes", publicKey: VendorKeyText.encodePublic(boltKey.publicKey))
        let acme = try vault.grants.create(
            GrantRequest(
                vendorName: "Acme Outdoor", scopes: [.profileField("name"), .profilePrefix("address")], purpose: .delivery,
                expiresAt: Date().addingTimeInterval(7 * 86_400), maxUses: 10))
        let bolt = try vault.grants.create(
            GrantRequest(vendorName: "Bolt Bikes", scopes: [.profileField("email")], purpose: .warranty, expiresAt: nil))
        detail("vault \(vault.database.header.vaultIDHex); grants \(acme.grant.id) (Acme, bearer) and \(bolt.grant.id) (Bolt, key-bound)")

        say("While the customer's laptop is on, vendors redeem from its own `vrm serve`")
        let local = try await DemoServer.start(path: path)
        let acmeLocal = VendorClient(baseURL: local.baseURL, keyPair: nil, pinnedSigner: acme.signerKey)
        guard case .share(let atHome, _, _, _) = try await acmeLocal.fetch(token: acme.token.encoded()) else {
            throw CLIError(description: "demo check failed: Acme could not redeem from the customer's own server")
        }
        detail("Acme got version \(atHome.version) from \(local.baseURL.absoluteString)")

        say("Start a throwaway PostgreSQL and a relay on it (the relay never sees a passphrase or key)")
        let cluster = try ThrowawayPostgres.start()
        defer { cluster.stop() }
        let database = try RelayDatabase(location: .parse(cluster.url, allowPassword: true), poolSize: 4)
        defer { database.close() }
        try database.migrate()
        let relay = try await DemoServer.start(relay: database)
        defer { relay.stop() }
        detail("PostgreSQL on 127.0.0.1:\(cluster.port); relay listening on \(relay.baseURL.absoluteString)")

        say("The operator makes a one-time invite; the customer links the vault and every grant is pushed")
        let invite = RelayInvite.generate()
        try database.createInvite(
            codeHash: RelayInvite.hash(invite), nowMillis: Millis.from(Date()), expiresAt: Millis.from(Date().addingTimeInterval(3600)))
        let client = RelayClient(baseURL: relay.baseURL, vaultID: vault.database.header.vaultID, signing: vault.keys.signing)
        try await client.enrol(invite: invite, boxKey: vault.database.header.boxPublicKey)
        try vault.relay.link(url: relay.baseURL.absoluteString)
        let pushed = try await RelayPush.flush(vault)
        try check(pushed?.pushed == 2, "the link pushed \(pushed?.pushed ?? 0) grants, not 2")
        detail("invite \(invite.prefix(9))… used; \(pushed?.pushed ?? 0) grants pushed, every request signed by the vault's key")

        say("The laptop sleeps: its server stops, and vendors redeem from the relay with the same tokens")
        local.stop()
        try await Task.sleep(for: .milliseconds(100))
        let acmeRelay = VendorClient(baseURL: relay.baseURL, keyPair: nil, pinnedSigner: acme.signerKey)
        guard case .share(let fromRelay, _, let tag, _) = try await acmeRelay.fetch(token: acme.token.encoded()) else {
            throw CLIError(description: "demo check failed: Acme could not redeem from the relay")
        }
        try check(fromRelay.data.profile?["address.shipping"] == "12 Quokka Lane, Springfield", "the relay served another share")
        detail("Acme: version \(fromRelay.version), signed by the vault (pinned key), address \(fromRelay.data.profile?["address.shipping"] ?? "")")
        let boltRelay = VendorClient(baseURL: relay.baseURL, keyPair: boltKey, pinnedSigner: bolt.signerKey)
        guard case .share(_, _, _, let sealed) = try await boltRelay.fetch(token: bolt.token.encoded()), sealed else {
            throw CLIError(description: "demo check failed: Bolt could not open its sealed share from the relay")
        }
        detail("Bolt: its share came sealed to its own key — the relay could not open it")

        say("The customer moves house; the change is re-materialised and pushed before the command returns")
        try vault.profile.set("address.shipping", value: "7 Wombat Street, Shelbyville")
        try await RelayPush.flush(vault)
        guard case .share(let moved, _, _, _) = try await acmeRelay.fetch(token: acme.token.encoded(), ifNoneMatch: tag) else {
            throw CLIError(description: "demo check failed: the relay did not serve the new version")
        }
        try check(moved.data.profile?["address.shipping"] == "7 Wombat Street, Shelbyville", "the relay still serves the old address")
        detail("Acme asked with If-None-Match \(tag ?? ""): version \(moved.version), address \(moved.data.profile?["address.shipping"] ?? "")")

        say("The customer revokes Bolt's grant: reported only once the relay has it; the next request is refused")
        try vault.grants.revoke(id: bolt.grant.id)
        try await RelayPush.flush(vault)
        guard case .refused(let status, let problem, _, _) = try await boltRelay.fetch(token: bolt.token.encoded()) else {
            throw CLIError(description: "demo check failed: the relay still served a revoked grant")
        }
        try check(status == 403 && problem.hasSuffix(":revoked"), "the relay answered \(status) \(problem), not 403 revoked")
        detail("Bolt gets \(status) revoked from the relay")

        say("Sync: the relay's history entries come home, in order, and the whole history verifies")
        guard let state = try vault.relay.state() else { throw CLIError(description: "demo check failed: the link was lost") }
        let (_, _, pulled) = try await RelayPush.sync(vault, state: state)
        let entries = try vault.audit.entries()
        let redeemed = entries.filter { $0.event == AuditEvent.shareRedeemed.rawValue }.count
        try check(pulled == 4 && redeemed == 4, "expected 4 relay entries and 4 redemptions, got \(pulled) and \(redeemed)")
        guard case .intact(let count, _) = try vault.audit.verify().result else {
            throw CLIError(description: "demo check failed: the history does not verify after the sync")
        }
        detail("\(pulled) entries pulled (3 redemptions and 1 denial at the relay); \(count) entries in all chain correctly")

        say("What the relay's operator holds: pg_dump of its database")
        let dump = try cluster.dump()
        let values = profile.map(\.1) + ["7 Wombat Street", "Acme Outdoor", "Bolt Bikes", "delivery", "profile.email"]
        let found = values.filter { dump.contains($0) }
        try check(found.isEmpty, "the relay's database holds \(found.joined(separator: ", "))")
        detail("\(dump.utf8.count) bytes of dump; none of \(values.count) personal values in it: ids, hashes, counts and ciphertext only")

        say("Unlink: everything of this vault is deleted on the relay, and the relay confirms it no longer knows it")
        try await client.unlink()
        try vault.relay.unlink()
        detail("unlinked; `vrm serve` may serve this vault again")
        print("\nDone. Run a relay yourself: `vrm relay serve`, `vrm relay invite`, `vrm relay link` (see Specs/relay.md).")
    }
}
