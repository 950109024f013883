import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultRelay
import VaultTestSupport

extension RelaySuites {
    /// What a hostile relay operator, or another vault on the relay, can try against a customer.
    @Suite("Relay: a hostile operator or neighbour")
    struct RelayOperatorTests {
        @Test("a selector squatted by another vault is refused alone: the rest of the push lands, the customer is told")
        func squattedSelector() async throws {
            let f = try await RelayFixture.make()
            let relay = try await f.startRelay()
            try await f.vrm(["profile", "set", "email", "alice@example.com"])
            try await f.vrm(["vendor", "add", "Acme Outdoor"])
            let victim = try await f.grant()
            let other = try await f.grant()
            // A vendor holding `victim` enrols a vault of its own and pushes that token's selector first.
            let squatter = RelayClient(baseURL: try #require(URL(string: relay.url)), vaultID: Random.bytes(16), signing: try SigningKeyPair.generate())
            try await squatter.enrol(invite: try await f.invite(), boxKey: Random.bytes(32))
            let selector = try GrantToken.parse(victim).selector
            _ = try await squatter.push(
                [
                    RelayWire.Grant(
                        id: "gr_squat", selector: Base64URL.encode(selector), secretHash: Base64URL.encode(Random.bytes(32)), binding: "bearer",
                        expiresAt: nil, maxUses: nil, useCount: 0, revokedAt: nil, version: 1, share: Base64URL.encode(Random.bytes(64)),
                        bindsPolicy: true)
                ], deleted: [])
            let link = try await f.run(["relay", "link", relay.url, "--invite", try await f.invite()])
            #expect(link.status == 6 && link.err.contains("clashes"), "\(link.err)")
            // The other grant is served; the squatted one stays queued, named.
            #expect(try await fetchShare(relay.url, token: other).status == 200)
            #expect(try await f.vrm(["relay", "status"]).contains("Queued changes:   1"))
        }

        @Test("history the relay forged or changed is refused at sync, and the vault's history stays as it was")
        func forgedHistory() async throws {
            let f = try await RelayFixture.make()
            let (relay, token) = try await f.linkedWithOneGrant()
            #expect(try await fetchShare(relay.url, token: token).status == 200)
            let before = try await f.vrm(["audit", "--json"])

            // The operator appends an entry that continues the relay's chain but was never sealed to
            // the vault (the chain needs no secret).
            let tip = try await f.psql("SELECT encode(id, 'hex'), tip_seq, encode(tip_hash, 'hex') FROM relay_vaults")
                .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").map(String.init)
            let (vault, seq, previous) = (tip[0], try #require(Int64(tip[1])), try #require(Hex.decode(tip[2])))
            let writer = try await f.psql("SELECT id FROM relay_writers LIMIT 1").trimmingCharacters(in: .whitespacesAndNewlines)
            let body = Random.bytes(80)
            let hash = AuditChain.entryHash(previous: previous, seq: seq + 1, atMillis: 1, event: "share.redeemed", writerID: writer, body: body)
            _ = try await f.psql(
                """
                INSERT INTO relay_entries VALUES (decode('\(vault)', 'hex'), \(seq + 1), 1, 'share.redeemed', '\(writer)',
                    decode('\(Hex.encode(body))', 'hex'), decode('\(Hex.encode(hash))', 'hex'));
                UPDATE relay_vaults SET tip_seq = \(seq + 1), tip_hash = decode('\(Hex.encode(hash))', 'hex');
                """)
            let forged = try await f.run(["relay", "sync"])
            #expect(forged.status == 4 && forged.err.contains("does not open with the vault key"), "\(forged.err)")
            #expect(try await f.vrm(["audit", "--json"]) == before)

            // Entries the relay withholds (its tip says they exist) are missing, not skipped.
            _ = try await f.psql("DELETE FROM relay_entries WHERE seq = \(seq + 1); DELETE FROM relay_entries WHERE seq = 1;")
            let gap = try await f.run(["relay", "sync"])
            #expect(gap.status == 4 && gap.err.contains("the relay's history"), "\(gap.err)")
            #expect(try await f.vrm(["audit", "--json"]) == before)
            try await f.vrm(["audit", "verify"])
        }
    }
}
