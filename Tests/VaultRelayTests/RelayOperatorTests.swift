import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultRelay
import VaultTestSupport

/// What a hostile relay operator, or another vault on the relay, can try against a customer.
@Suite("Relay: a hostile operator or neighbour", .serialized)
struct RelayOperatorTests {
    @Test("a selector squatted by another vault is refused alone: the rest of the push lands, the customer is told")
    func squattedSelector() async throws {
        let f = try RelayFixture()
        let relay = try f.startRelay()
        try f.vrm(["profile", "set", "email", "alice@example.com"])
        try f.vrm(["vendor", "add", "Acme Outdoor"])
        let victim = try f.grant()
        let other = try f.grant()
        // A vendor holding `victim` enrols a vault of its own and pushes that token's selector first.
        let squatter = RelayClient(baseURL: try #require(URL(string: relay.url)), vaultID: Random.bytes(16), signing: try SigningKeyPair.generate())
        try await squatter.enrol(invite: try f.invite(), boxKey: Random.bytes(32))
        let selector = try GrantToken.parse(victim).selector
        _ = try await squatter.push(
            [
                RelayWire.Grant(
                    id: "gr_squat", selector: Base64URL.encode(selector), secretHash: Base64URL.encode(Random.bytes(32)), binding: "bearer",
                    expiresAt: nil, maxUses: nil, useCount: 0, revokedAt: nil, version: 1, share: Base64URL.encode(Random.bytes(64)),
                    bindsPolicy: true)
            ], deleted: [])
        let link = try f.cli.run(["relay", "link", relay.url, "--invite", try f.invite()], env: f.env)
        #expect(link.status == 6 && link.err.contains("clashes"), "\(link.err)")
        // The other grant is served; the squatted one stays queued, named.
        #expect(try await fetchShare(relay.url, token: other).status == 200)
        #expect(try f.vrm(["relay", "status"]).contains("Queued changes:   1"))
    }

    @Test("history the relay forged or changed is refused at sync, and the vault's history stays as it was")
    func forgedHistory() async throws {
        let f = try RelayFixture()
        let (relay, token) = try f.linkedWithOneGrant()
        #expect(try await fetchShare(relay.url, token: token).status == 200)
        let before = try f.vrm(["audit", "--json"])

        // The operator appends an entry that continues the relay's chain but was never sealed to
        // the vault (the chain needs no secret).
        let tip = try f.cluster.psql("SELECT encode(id, 'hex'), tip_seq, encode(tip_hash, 'hex') FROM relay_vaults")
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map(String.init)
        let (vault, seq, previous) = (tip[0], try #require(Int64(tip[1])), try #require(Hex.decode(tip[2])))
        let writer = try f.cluster.psql("SELECT id FROM relay_writers LIMIT 1").trimmingCharacters(in: .whitespacesAndNewlines)
        let body = Random.bytes(80)
        let hash = AuditChain.entryHash(previous: previous, seq: seq + 1, atMillis: 1, event: "share.redeemed", writerID: writer, body: body)
        _ = try f.cluster.psql(
            """
            INSERT INTO relay_entries VALUES (decode('\(vault)', 'hex'), \(seq + 1), 1, 'share.redeemed', '\(writer)',
                decode('\(Hex.encode(body))', 'hex'), decode('\(Hex.encode(hash))', 'hex'));
            UPDATE relay_vaults SET tip_seq = \(seq + 1), tip_hash = decode('\(Hex.encode(hash))', 'hex');
            """)
        let forged = try f.cli.run(["relay", "sync"], env: f.env)
        #expect(forged.status == 4 && forged.err.contains("does not open with the vault key"), "\(forged.err)")
        #expect(try f.vrm(["audit", "--json"]) == before)

        // Entries the relay withholds (its tip says they exist) are missing, not skipped.
        _ = try f.cluster.psql("DELETE FROM relay_entries WHERE seq = \(seq + 1); DELETE FROM relay_entries WHERE seq = 1;")
        let gap = try f.cli.run(["relay", "sync"], env: f.env)
        #expect(gap.status == 4 && gap.err.contains("the relay's history"), "\(gap.err)")
        #expect(try f.vrm(["audit", "--json"]) == before)
        try f.vrm(["audit", "verify"])
    }
}
