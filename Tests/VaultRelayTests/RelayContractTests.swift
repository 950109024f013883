import Foundation
import Testing
import VaultTestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A vendor's view of one answer: what a client written for `vrm serve` reads.
struct Answer: Equatable, CustomStringConvertible {
    var status: Int
    var contentType: String?
    var cacheControl: String?
    var etag: String?
    var retryAfter: Bool
    /// The problem document (`type`, `title`, `status`), or the share's kind.
    var body: String

    var description: String { "\(status) \(contentType ?? "-") \(etag ?? "-") \(body)" }
}

func answer(_ base: String, token: String?, ifNoneMatch: String? = nil) async throws -> Answer {
    var request = URLRequest(url: try #require(URL(string: base + "/v1/share")))
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    if let ifNoneMatch { request.setValue(ifNoneMatch, forHTTPHeaderField: "If-None-Match") }
    request.cachePolicy = .reloadIgnoringLocalCacheData
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    let body: String
    if http.statusCode == 200 {
        // A bearer share is the JWS; a key-bound one the sealed envelope around it.
        body = json?["payload"] != nil ? "jws" : json?["sealed"] != nil ? "sealed" : "other"
    } else {
        body = json.map { "\($0["type"] ?? "") \($0["title"] ?? "") \($0["status"] ?? "")" } ?? ""
    }
    return Answer(
        status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type"),
        cacheControl: http.value(forHTTPHeaderField: "Cache-Control"), etag: http.value(forHTTPHeaderField: "ETag"),
        retryAfter: http.value(forHTTPHeaderField: "Retry-After") != nil, body: body)
}

extension RelaySuites {
    /// The vendor contract is the same at the relay: every kind of token, asked at the customer's
    /// `vrm serve` and then (the vault linked) at the relay, gets the same status, headers and body.
    @Suite("Relay: the same vendor contract as vrm serve")
    struct RelayContractTests {
        @Test("200, 304, 401, 403 revoked/expired/used-up and 429 answer alike at vrm serve and at the relay")
        func sameAnswers() async throws {
            let f = try await RelayFixture.make()
            try await f.vrm(["profile", "set", "email", "alice@example.com"])
            try await f.vrm(["vendor", "add", "Acme Outdoor"])
            let keyFile = f.cli.dir.file("bolt.key")
            let key = try await f.vrm(["vendor-key", "generate", "--out", keyFile]).split(separator: "\n").first.map(String.init) ?? ""
            try await f.vrm(["vendor", "add", "Bolt", "--public-key", key.trimmingCharacters(in: .whitespaces)])
            func issue(_ vendor: String = "Acme Outdoor", _ extra: [String] = []) async throws -> String {
                try await f.vrm(["grant", "create", "--vendor", vendor, "--scope", "profile.email", "--purpose", "delivery", "--token-only"] + extra)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let valid = try await issue()
            let keyed = try await issue("Bolt")
            let revoked = try await issue()
            try await f.vrm(["grant", "revoke", try #require(try await f.grantIDs().first)])
            let usedUp = try await issue("Acme Outdoor", ["--max-uses", "1"])
            let expiring = try await issue("Acme Outdoor", ["--expires", ISO8601DateFormatter().string(from: Date().addingTimeInterval(3))])
            try await Task.sleep(for: .seconds(3.5))

            /// Every answer in order, the same sequence at each endpoint.
            func answers(at base: String) async throws -> [Answer] {
                var all: [Answer] = []
                for token in [valid, keyed, revoked, usedUp, expiring, "vrm_not-a-token", nil] as [String?] {
                    all.append(try await answer(base, token: token))
                }
                all.append(try await answer(base, token: valid, ifNoneMatch: "\"v1\""))
                all.append(try await answer(base, token: valid, ifNoneMatch: "*"))
                return all
            }
            // Both endpoints limit failures to 3 per client: the fourth and later failures are 429.
            let local = try await f.background(["serve", "--port", "0", "--max-failures", "3"])
            // The used-up grant's one use, at home: the relay gets its use count with the link.
            #expect(try await answer(local.url, token: usedUp).status == 200)
            let atHome = try await answers(at: local.url)
            local.stop()
            let relay = try await f.startRelay(["--max-failures", "3"])
            try await f.vrm(["relay", "link", relay.url, "--invite", try await f.invite()])
            let atRelay = try await answers(at: relay.url)
            #expect(atHome.map(\.status) == [200, 200, 403, 403, 403, 429, 429, 304, 304])
            #expect(atRelay == atHome)
            for (home, there) in zip(atHome, atRelay) where home != there {
                Issue.record("vrm serve answered \(home), the relay \(there)")
            }
        }
    }
}
