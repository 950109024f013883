import Foundation
import Testing
import VaultCrypto
import VaultRelay
import VaultTestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Raw HTTP to a relay node: method, path, body and headers as given.
func send(
    _ base: String, _ method: String, _ path: String, body: Data = Data(), headers: [String: String] = [:]
) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: try #require(URL(string: base + path)))
    request.httpMethod = method
    if !body.isEmpty { request.httpBody = body }
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

extension RelaySuites {
    /// The control API refuses what a network attacker or another vault could send, and two nodes
    /// over one database keep a use limit exact.
    @Suite("Relay: signed requests and exact limits")
    struct RelayProtocolTests {
        @Test("a replayed, re-targeted, tampered, stale or foreign-signed request is refused; enrolment needs an invite")
        func signedRequests() async throws {
            let f = try await RelayFixture.make()
            let relay = try await f.startRelay()
            let key = try SigningKeyPair.generate()
            let vaultID = Random.bytes(16)
            let client = RelayClient(baseURL: try #require(URL(string: relay.url)), vaultID: vaultID, signing: key)
            let box = Random.bytes(32)
            // No invite, then a made-up one: refused, nothing enrolled.
            await #expect(throws: RelayClientError.self) { try await client.enrol(invite: "vrmi_made_up", boxKey: box) }
            try await client.enrol(invite: try await f.invite(), boxKey: box)
            _ = try await client.status()

            let hex = Hex.encode(vaultID)
            let path = "/v1/relay/vaults/\(hex)"
            func signed(
                _ method: String, _ target: String, body: [UInt8] = [], by signer: SigningKeyPair = key, at date: Date = Date(),
                for authority: String = "127.0.0.1:\(relay.port)"
            ) -> String {
                RequestSignature.sign(method: method, authority: authority, path: target, body: body, vaultID: vaultID, key: signer, now: date)
                    .text
            }
            // A good request once; the same bytes again are a replay.
            let header = signed("GET", path)
            #expect(try await send(relay.url, "GET", path, headers: [RequestSignature.header: header]).status == 200)
            let replay = try await send(relay.url, "GET", path, headers: [RequestSignature.header: header])
            #expect(replay.status == 401 && replay.body.contains("replayed"))
            // Signed for one route, sent to another (DELETE with GET's signature).
            let moved = try await send(relay.url, "DELETE", path, headers: [RequestSignature.header: signed("GET", path)])
            #expect(moved.status == 401 && moved.body.contains("bad-signature"))
            // A body other than the one signed.
            let push = Array(#"{"grants":[],"deleted":[]}"#.utf8)
            let tampered = try await send(
                relay.url, "PUT", path + "/grants", body: Data(#"{"grants":[],"deleted":["x"]}"#.utf8),
                headers: [RequestSignature.header: signed("PUT", path + "/grants", body: push)])
            #expect(tampered.status == 401)
            // Signed for another relay (its host), then replayed here.
            let elsewhere = try await send(relay.url, "GET", path, headers: [RequestSignature.header: signed("GET", path, for: "relay.example")])
            #expect(elsewhere.status == 401 && elsewhere.body.contains("bad-signature"))
            // Too old, or signed by another key.
            let stale = try await send(
                relay.url, "GET", path, headers: [RequestSignature.header: signed("GET", path, at: Date().addingTimeInterval(-600))])
            #expect(stale.status == 401)
            let foreign = try await send(relay.url, "GET", path, headers: [RequestSignature.header: signed("GET", path, by: try SigningKeyPair.generate())])
            #expect(foreign.status == 401)
            // Missing or garbage signature; an unknown vault.
            #expect(try await send(relay.url, "GET", path).status == 401)
            #expect(try await send(relay.url, "GET", path, headers: [RequestSignature.header: "v1;vault=zz"]).status == 401)
            let unknown = "/v1/relay/vaults/\(Hex.encode(Random.bytes(16)))"
            #expect(try await send(relay.url, "GET", unknown, headers: [RequestSignature.header: signed("GET", unknown)]).status == 401)
            // Malformed JSON and malformed grants are 400; an oversized body is 413, and nothing was stored.
            let junk = Array("{not json".utf8)
            let malformed = try await send(
                relay.url, "PUT", path + "/grants", body: Data(junk), headers: [RequestSignature.header: signed("PUT", path + "/grants", body: junk)])
            #expect(malformed.status == 400)
            let badGrant = Array(
                #"{"grants":[{"id":"g","selector":"AA","secret_hash":"AA","binding":"bearer","use_count":0,"version":1,"binds_policy":true}],"deleted":[]}"#
                    .utf8)
            let invalid = try await send(
                relay.url, "PUT", path + "/grants", body: Data(badGrant),
                headers: [RequestSignature.header: signed("PUT", path + "/grants", body: badGrant)])
            #expect(invalid.status == 400)
            let huge = [UInt8](repeating: 0x20, count: 9 << 20)
            let oversized = try await send(
                relay.url, "PUT", path + "/grants", body: Data(huge), headers: [RequestSignature.header: signed("PUT", path + "/grants", body: huge)])
            #expect(oversized.status == 413)
            #expect(try await client.grantStatuses().isEmpty)
            // An unlink signed now cannot be replayed against a new enrolment of the same vault.
            let unlink = signed("DELETE", path)
            #expect(try await send(relay.url, "DELETE", path, headers: [RequestSignature.header: unlink]).status == 204)
            try await client.enrol(invite: try await f.invite(), boxKey: box)
            #expect(try await send(relay.url, "DELETE", path, headers: [RequestSignature.header: unlink]).status == 401)
            _ = try await client.status()
            // The relay answers for itself while the database is down: not ready, and no trap.
            let cluster = f.cluster
            try await blocking { cluster.stop() }
            #expect(try await send(relay.url, "GET", "/readyz").status == 503)
            #expect(try await send(relay.url, "GET", "/livez").status == 200)
            let share = try await send(relay.url, "GET", "/v1/share", headers: ["Authorization": "Bearer vrm_AAAA"])
            #expect(share.status == 401)
        }

        @Test("two relay nodes on one database hold a use limit exactly under parallel redemptions")
        func twoNodesExactLimit() async throws {
            let f = try await RelayFixture.make()
            // Failed redemptions are not rate limited here: every request must reach the limit check.
            let nodes = [try await f.startRelay(["--max-failures", "100000"]), try await f.startRelay(["--max-failures", "100000"])]
            try await f.vrm(["profile", "set", "email", "alice@example.com"])
            try await f.vrm(["vendor", "add", "Acme Outdoor"])
            let limit = 25
            let tokens = [try await f.grant(["--max-uses", String(limit)]), try await f.grant(["--max-uses", String(limit)])]
            try await f.vrm(["relay", "link", nodes[0].url, "--invite", try await f.invite()])
            let perToken = 80
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<(perToken * tokens.count) {
                    let node = nodes[i % 2], token = tokens[(i / 2) % tokens.count]
                    group.addTask { try await fetchShare(node.url, token: token).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == limit * tokens.count)
            #expect(statuses.filter { $0 == 403 }.count == (perToken - limit) * tokens.count)
            // Every answer is on the record: sync brings them all, in one chain.
            try await f.vrm(["relay", "sync"])
            let audit = try await f.vrm(["audit", "--json"])
            let entries = try JSONSerialization.jsonObject(with: Data(audit.utf8)) as? [[String: Any]] ?? []
            #expect(entries.filter { ($0["event"] as? String) == "share.redeemed" }.count == limit * tokens.count)
            #expect(entries.filter { ($0["event"] as? String) == "share.denied" }.count == (perToken - limit) * tokens.count)
            try await f.vrm(["audit", "verify"])
            let list = try await f.vrm(["grant", "list"])
            #expect(list.components(separatedBy: "\(limit)/\(limit)").count == 3)
            // A used-up grant's share is gone from the relay at once.
            let status = try await f.vrm(["relay", "status"])
            #expect(status.contains("0 with a share"))
        }
    }
}
