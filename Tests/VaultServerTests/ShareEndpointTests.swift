import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VaultCore
import VaultCrypto
@testable import VaultServer
import VaultTestSupport

/// Captures access-log lines.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

/// A vault with a profile, a bearer grant, a key-bound grant, and grants in each refused state.
struct Fixture {
    let dir = TemporaryDirectory()
    let clock = TestClock()
    let vault: Vault
    let bearer: IssuedGrant
    let keyBound: IssuedGrant
    let vendorKey: BoxKeyPair
    let log = LogLines()

    init() throws {
        vault = try makeVault(in: dir, clock: clock.closure)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.profile.set("address.shipping", value: "1 Main St")
        try vault.vendors.add(name: "Acme")
        vendorKey = try BoxKeyPair.generate()
        try vault.vendors.add(name: "Bolt", publicKey: VendorKeyText.encodePublic(vendorKey.publicKey))
        bearer = try vault.grants.create(
            GrantRequest(
                vendorName: "Acme", scopes: [.profilePrefix("address")], purpose: .delivery,
                expiresAt: clock.now.addingTimeInterval(3600)))
        keyBound = try vault.grants.create(GrantRequest(vendorName: "Bolt", scopes: [.profileField("email")], purpose: .warranty, expiresAt: nil))
    }

    func grant(maxUses: Int? = nil, expiresIn: TimeInterval? = nil) throws -> IssuedGrant {
        try vault.grants.create(
            GrantRequest(
                vendorName: "Acme", scopes: [.profile], purpose: .support,
                expiresAt: expiresIn.map { clock.now.addingTimeInterval($0) }, maxUses: maxUses))
    }

    func app(maxFailures: Int = 1000, trustedProxies: [String] = [], tls: (String, String)? = nil) throws -> some ApplicationProtocol {
        // The server gets its own database handle and nothing else: no passphrase, no keys.
        let database = try VaultDatabase.open(path: dir.file("vault.db"))
        let log = self.log
        return try buildApplication(
            database: database,
            options: ServerOptions(
                host: "127.0.0.1", port: 0, maxFailures: maxFailures, trustedProxies: try TrustedProxies(parsing: trustedProxies),
                tls: tls.map { (certificateChain: $0.0, privateKey: $0.1) }),
            clock: clock.closure, accessLog: AccessLog(sink: { log.append($0) }))
    }
}

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

@Suite struct ShareEndpointTests {
    /// Through the router (Hummingbird's path) and over TCP (the event-loop fast path).
    @Test(arguments: [TestingSetup.router, .live]) func aBearerGrantAnswersTheSignedShareWithNoStoreAndAnETag(_ setup: TestingSetup) async throws {
        let f = try Fixture()
        try await f.app().test(setup) { client in
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(f.bearer.token.encoded())) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[.eTag] == "\"v1\"")
                #expect(response.headers[.contentType] == "application/jose+json")
                let signed = try JSONDecoder().decode(SignedShare.self, from: Data(buffer: response.body))
                let document = try signed.verified(expectedSigner: f.bearer.signerKey).document
                #expect(document.data.profile == ["address.shipping": "1 Main St"])
            }
            try await client.execute(
                uri: "/v1/share", method: .get,
                headers: [.authorization: "bearer \(f.bearer.token.encoded())", .ifNoneMatch: "\"v1\""]
            ) { response in
                #expect(response.status == .notModified)
                #expect(response.headers[.eTag] == "\"v1\"")
            }
        }
        #expect(try f.vault.grants.grant(id: f.bearer.grant.id).useCount == 1)
    }

    /// Bad framing is the client's error: 400 with a problem body, not a 500; and the access log
    /// shows the route, never the rest of a path or a query a token might be in.
    @Test func malformedFramingIs400AndTheLogShowsOnlyTheRoute() async throws {
        let f = try Fixture()
        try await f.app().test(.live) { client in
            let port = try #require(client.port)
            for coding in ["xchunked", "identity"] {
                let text = "GET /v1/share HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: \(coding)\r\n\r\n"
                let responses = try RawHTTP.exchange(port: port, send: Array(text.utf8), expecting: 1)
                #expect(responses.first?.status == 400, "Transfer-Encoding: \(coding)")
                let body = String(decoding: responses.first?.body ?? [], as: UTF8.self)
                #expect(body.contains("malformed-request"))
            }
            try await client.execute(uri: "/v1/share/vrm_notlogged?token=vrm_neither", method: .get) { #expect($0.status == .notFound) }
        }
        #expect(f.log.all.contains { $0.contains(#""status":400"#) })
        #expect(!f.log.all.contains { $0.contains("vrm_notlogged") || $0.contains("vrm_neither") }, "\(f.log.all)")
        #expect(f.log.all.contains { $0.contains(#""path":"(other)""#) })
        #expect(!f.log.all.contains { $0.contains(#""status":500"#) })
    }

    /// The JWK Set lists the vault's signing key under the kid every share's JWS names, and a
    /// share verifies with the key taken from it.
    @Test func theJWKSetListsTheKeyTheSharesAreSignedWith() async throws {
        let f = try Fixture()
        try await f.app().test(.router) { client in
            var set: VaultJWKSet?
            try await client.execute(uri: "/.well-known/jwks.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/jwk-set+json")
                set = try JSONDecoder().decode(VaultJWKSet.self, from: Data(buffer: response.body))
            }
            let keys = try #require(set)
            #expect(keys.keys.count == 1)
            #expect(keys.keys.first?.alg == "Ed25519")
            #expect(keys.keys.first?.use == "sig")
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(f.bearer.token.encoded())) { response in
                let signed = try JSONDecoder().decode(SignedShare.self, from: Data(buffer: response.body))
                let kid = try #require(try signed.header().kid)
                let key = try #require(keys.key(kid: kid))
                #expect(key == f.bearer.signerKey)
                #expect(try signed.verified(expectedSigner: key).document.grantID == f.bearer.grant.id)
            }
        }
    }

    /// Through the router (Hummingbird's path) and over TCP (the event-loop fast path).
    @Test(arguments: [TestingSetup.router, .live]) func aKeyBoundGrantAnswersASealedEnvelopeOnlyTheVendorOpens(_ setup: TestingSetup) async throws {
        let f = try Fixture()
        try await f.app().test(setup) { client in
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(f.keyBound.token.encoded())) { response in
                #expect(response.status == .ok)
                let sealed = try JSONDecoder().decode(SealedShare.self, from: Data(buffer: response.body))
                #expect(sealed.format == "vrm-sealed-share/2")
                #expect(sealed.version == 1)
                let document = try sealed.open(with: f.vendorKey).verified().document
                #expect(document.data.profile == ["email": "jo@example.org"])
                #expect(throws: ShareFormatError.notForThisKey) { try sealed.open(with: try BoxKeyPair.generate()) }
            }
        }
    }

    /// Through the router (Hummingbird's path) and over TCP (the event-loop fast path).
    @Test(arguments: [TestingSetup.router, .live]) func everyInvalidTokenGetsTheSame401(_ setup: TestingSetup) async throws {
        let f = try Fixture()
        let other = try GrantToken.generate()
        let payload = f.bearer.token.selector + other.secret.exposedCopy()
        let wrongSecret = "vrm_" + Base64URL.encode(payload) + Base64URL.encode(Array(BLAKE2b.hash([Array("vrm-token-v1".utf8), payload]).prefix(4)))
        let good = f.bearer.token.encoded()
        let headers: [HTTPFields] = [
            [:], bearer(""), bearer("garbage"), bearer("xyz_" + good.dropFirst(4)), bearer(String(good.dropLast()) + (good.last == "A" ? "B" : "A")),
            bearer(wrongSecret), bearer(other.encoded()), bearer(String(repeating: "A", count: 10_240)), [.authorization: "Basic Zm9vOmJhcg=="],
        ]
        let seen = LogLines()
        try await f.app().test(setup) { client in
            for h in headers {
                try await client.execute(uri: "/v1/share", method: .get, headers: h) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer error=\"invalid_token\"")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    let body = String(buffer: response.body)
                    seen.append(body + "|" + response.headers.map { "\($0.name)=\($0.value)" }.filter { !$0.hasPrefix("Date") }.sorted().joined())
                }
            }
        }
        #expect(seen.all.count == headers.count)
        #expect(Set(seen.all).count == 1, "401 responses differ: \(Set(seen.all))")
        #expect(try f.vault.grants.grant(id: f.bearer.grant.id).useCount == 0)
    }

    /// Through the router (Hummingbird's path) and over TCP (the event-loop fast path).
    @Test(arguments: [TestingSetup.router, .live]) func refusedGrantsGet403WithTheirProblemTypeAndNoUseCounted(_ setup: TestingSetup) async throws {
        let f = try Fixture()
        let revoked = try f.grant()
        try f.vault.grants.revoke(id: revoked.grant.id)
        let usedUp = try f.grant(maxUses: 1)
        let expiring = try f.grant(expiresIn: 60)
        let app = try f.app()
        try await app.test(setup) { client in
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(usedUp.token.encoded())) { #expect($0.status == .ok) }
            f.clock.advance(by: 120)
            for (grant, type) in [(revoked, "revoked"), (usedUp, "used-up"), (expiring, "expired")] {
                try await client.execute(uri: "/v1/share", method: .get, headers: bearer(grant.token.encoded())) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    #expect(json["type"] as? String == "urn:vrm-vault:problem:\(type)")
                    #expect(json["status"] as? Int == 403)
                }
            }
        }
        #expect(try f.vault.grants.grant(id: revoked.grant.id).useCount == 0)
        #expect(try f.vault.grants.grant(id: usedUp.grant.id).useCount == 1)
        #expect(try f.vault.grants.grant(id: expiring.grant.id).useCount == 0)
    }

    /// Through the router (Hummingbird's path) and over raw TCP (the event-loop fast path, which
    /// reads its fields in one pass; the test client would fold repeated fields into one): a
    /// field sent twice reads as all its values joined, on both paths.
    @Test func aFieldSentTwiceReadsAsAllItsValuesOnBothPaths() async throws {
        let f = try Fixture()
        let good = f.bearer.token.encoded()
        var twice = bearer(good)
        twice.append(HTTPField(name: .authorization, value: "Bearer \(good)"))
        var agents = bearer(good)
        agents.append(HTTPField(name: .userAgent, value: "first"))
        agents.append(HTTPField(name: .userAgent, value: "second"))
        let (twiceSent, agentsSent) = (twice, agents)
        try await f.app().test(.router) { client in
            // "Bearer T, Bearer T" is not one token: refused, as if malformed.
            try await client.execute(uri: "/v1/share", method: .get, headers: twiceSent) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/share", method: .get, headers: agentsSent) { #expect($0.status == .ok) }
        }
        try await f.app().test(.live) { client in
            let port = try #require(client.port)
            let text = [twiceSent, agentsSent].map { fields in
                (["GET /v1/share HTTP/1.1", "Host: 127.0.0.1"] + fields.map { "\($0.name): \($0.value)" }).joined(separator: "\r\n") + "\r\n\r\n"
            }.joined()
            let responses = try RawHTTP.exchange(port: port, send: Array(text.utf8), expecting: 2)
            #expect(responses.map(\.status) == [401, 200])
        }
        #expect(try f.vault.grants.grant(id: f.bearer.grant.id).useCount == 2)
        let okLines = f.log.all.filter { $0.contains(#""status":200"#) }
        #expect(okLines.count == 2)
        #expect(okLines.allSatisfy { $0.contains(#""user_agent":"first, second""#) }, "\(okLines)")
        let redeemed = try f.vault.audit.entries().filter { $0.event == AuditEvent.shareRedeemed.rawValue }
        #expect(redeemed.map(\.body.userAgent) == ["first, second", "first, second"])
    }

    /// Through the router (Hummingbird's path) and over TCP (the event-loop fast path). Over its
    /// failure limit a client gets 429 for anything but a genuine token, which is answered as
    /// always: other clients' failures from the same address (a proxy's) lock no vendor out.
    @Test(arguments: [TestingSetup.router, .live]) func overTheLimitOnlyAGenuineTokenIsAnswered(_ setup: TestingSetup) async throws {
        let f = try Fixture()
        let wellFormedButWrong = try GrantToken.generate().encoded()
        try await f.app(maxFailures: 3).test(setup) { client in
            for _ in 0..<3 {
                try await client.execute(uri: "/v1/share", method: .get, headers: bearer("nope")) { #expect($0.status == .unauthorized) }
            }
            for token in ["nope", wellFormedButWrong] {
                try await client.execute(uri: "/v1/share", method: .get, headers: bearer(token)) { response in
                    #expect(response.status == .tooManyRequests)
                    #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
            }
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(f.bearer.token.encoded())) { #expect($0.status == .ok) }
            f.clock.advance(by: 61)
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(wellFormedButWrong)) { #expect($0.status == .unauthorized) }
        }
        // The 429s are not on the record; the three 401s, the 200 and the last 401 are.
        let events = try f.vault.audit.entries().map(\.event).filter { $0.hasPrefix("share.") }
        #expect(events == ["share.denied", "share.denied", "share.denied", "share.redeemed", "share.denied"])
    }

    /// Failures are counted as they are reserved: a burst of bad tokens gets exactly the limit
    /// of 401s, however many arrive at once.
    @Test func aBurstDoesNotOvershootTheLimit() async throws {
        let f = try Fixture()
        try await f.app(maxFailures: 5).test(.router) { client in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await client.execute(uri: "/v1/share", method: .get, headers: bearer(try GrantToken.generate().encoded())) {
                            Int($0.status.code)
                        }
                    }
                }
                var all: [Int] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(statuses.filter { $0 == 401 }.count <= 5)
            #expect(statuses.filter { $0 == 429 }.count >= 35)
        }
    }

    /// Behind a trusted proxy each vendor is limited and recorded by its own address: one
    /// client's failures leave another's genuine token alone, and a forged header from an
    /// untrusted peer changes nothing. Over TCP only: the router's test client has no peer
    /// address to trust.
    @Test func behindATrustedProxyEachClientCountsAlone() async throws {
        let f = try Fixture()
        try await f.app(maxFailures: 2, trustedProxies: ["127.0.0.1"]).test(.live) { client in
            var attacker = bearer("nope")
            attacker[HTTPField.Name("X-Forwarded-For")!] = "198.51.100.9"
            for _ in 0..<3 { try await client.execute(uri: "/v1/share", method: .get, headers: attacker) { _ in } }
            try await client.execute(uri: "/v1/share", method: .get, headers: attacker) { #expect($0.status == .tooManyRequests) }
            var vendor = bearer(f.bearer.token.encoded())
            vendor[HTTPField.Name("Forwarded")!] = "for=\"[2001:db8::7]:4711\";proto=https"
            try await client.execute(uri: "/v1/share", method: .get, headers: vendor) { #expect($0.status == .ok) }
        }
        let redeemed = try #require(try f.vault.audit.entries().first { $0.event == "share.redeemed" })
        #expect(redeemed.body.client == "2001:db8::7")
        #expect(f.log.all.contains { $0.contains(#""client":"198.51.100.9""#) })
    }

    @Test func theClientIsReadOnlyFromTrustedProxies() throws {
        let proxies = try TrustedProxies(parsing: ["10.0.0.0/8", "::1"])
        #expect(proxies.client(peer: "10.1.2.3", forwarded: nil, forwardedFor: "203.0.113.5, 10.9.9.9") == "203.0.113.5")
        #expect(proxies.client(peer: "192.0.2.1", forwarded: nil, forwardedFor: "203.0.113.5") == "192.0.2.1")
        #expect(proxies.client(peer: "::1", forwarded: "for=192.0.2.60;proto=http, for=10.0.0.2", forwardedFor: "1.1.1.1") == "192.0.2.60")
        #expect(proxies.client(peer: "10.0.0.1", forwarded: "for=unknown", forwardedFor: nil) == "10.0.0.1")
        #expect(proxies.client(peer: "10.0.0.1", forwarded: nil, forwardedFor: "evil, 203.0.113.5") == "203.0.113.5")
        #expect(proxies.client(peer: "::ffff:10.0.0.1", forwarded: nil, forwardedFor: "203.0.113.5") == "203.0.113.5")
        #expect(throws: TrustedProxyError.self) { try TrustedProxies(parsing: ["10.0.0.0/33"]) }
        #expect(throws: TrustedProxyError.self) { try TrustedProxies(parsing: ["proxy.example"]) }
    }

    @Test func ipv6ClientsAreCountedPer64() {
        #expect(FailureRateLimiter.key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(FailureRateLimiter.key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64")
        #expect(FailureRateLimiter.key("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(FailureRateLimiter.key("192.0.2.7") == "192.0.2.7")
    }

    /// Router only: these answers close the connection, which the live test client cannot reuse.
    @Test func oversizedRequestsGet431Or413NeverACrash() async throws {
        let f = try Fixture()
        try await f.app().test(.router) { client in
            var big = bearer(f.bearer.token.encoded())
            big[HTTPField.Name("X-Padding")!] = String(repeating: "p", count: 40_000)
            try await client.execute(uri: "/v1/share", method: .get, headers: big) { response in
                #expect(response.status.code == 431)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(
                uri: "/v1/share", method: .get, headers: [.contentLength: "20000"],
                body: ByteBuffer(repeating: 0x41, count: 20_000)
            ) { response in
                #expect(response.status == .contentTooLarge)
            }
            // A chunked body carries no Content-Length; it is bounded all the same.
            try await client.execute(
                uri: "/v1/share", method: .get, headers: [.transferEncoding: "chunked"],
                body: ByteBuffer(repeating: 0x41, count: 20_000)
            ) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/livez", method: .get) { #expect($0.status == .ok) }
        }
        #expect(try f.vault.grants.grant(id: f.bearer.grant.id).useCount == 0)
    }

    /// Through the router (Hummingbird's path) and over TCP (the event-loop fast path).
    @Test(arguments: [TestingSetup.router, .live]) func healthUnknownPathsAndWrongMethodsAnswerProblems(_ setup: TestingSetup) async throws {
        let f = try Fixture()
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/livez", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "{\"status\":\"ready\"}")
            }
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            for (path, method) in [("/v1/share", HTTPRequest.Method.post), ("/v1/share/", .delete), ("/livez", .head)] {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == .methodNotAllowed)
                    #expect(response.headers[.allow] == "GET")
                }
            }
        }
    }

    /// Through the router (Hummingbird's path) and over TCP (the event-loop fast path).
    @Test(arguments: [TestingSetup.router, .live]) func theAccessLogIsOneJSONLinePerRequestWithoutTokens(_ setup: TestingSetup) async throws {
        let f = try Fixture()
        let token = f.bearer.token.encoded()
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/share?token=\(token)", method: .get, headers: bearer(token)) { _ in }
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer("bad")) { _ in }
            var odd = bearer("bad")
            odd[.userAgent] = "evil \"agent\" \\ \u{7}"
            try await client.execute(uri: "/v1/share", method: .get, headers: odd) { _ in }
        }
        let lines = f.log.all
        #expect(lines.count == 3)
        for line in lines {
            #expect(!line.contains(token) && !line.contains(String(token.dropFirst(4).prefix(20))))
            let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(json["path"] as? String == "/v1/share")
            #expect(json["status"] != nil && json["method"] as? String == "GET")
            #expect((json["duration_ms"] as? Double).map { $0 >= 0 } == true)
        }
        let odd = try #require(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        // Quotes and backslashes survive escaping (the HTTP layer already trims the rest).
        #expect((odd["user_agent"] as? String)?.hasPrefix("evil \"agent\" \\") == true)
    }

    @Test func groupCommitKeepsUseCountsExactUnderConcurrentRequests() async throws {
        let f = try Fixture()
        let limited = try f.grant(maxUses: 10)
        let statuses = try await f.app().test(.router) { client in
            try await withThrowingTaskGroup(of: UInt16.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await client.execute(uri: "/v1/share", method: .get, headers: bearer(limited.token.encoded())) {
                            $0.status.code == 200 ? 200 : UInt16($0.status.code)
                        }
                    }
                }
                return try await group.reduce(into: [UInt16]()) { $0.append($1) }
            }
        }
        #expect(statuses.filter { $0 == 200 }.count == 10)
        #expect(statuses.filter { $0 == 403 }.count == 30)
        #expect(try f.vault.grants.grant(id: limited.grant.id).useCount == 10)
        let redeemed = try f.vault.audit.entries(AuditFilter(grantID: limited.grant.id)).filter { $0.event == "share.redeemed" }
        #expect(redeemed.count == 10)
        let database = try VaultDatabase.open(path: f.dir.file("vault.db"))
        guard case .intact = try AuditVerifier.verify(database, checkpoint: nil) else { return #expect(Bool(false)) }
    }

    /// HTTP/1.1 pipelining over one connection, mixing requests the event loop answers with ones
    /// Hummingbird answers (an unknown path, a health check, one with `Connection`): the answers
    /// come back in request order, each the right one.
    @Test func pipelinedRequestsAreAnsweredInOrderAcrossBothServerPaths() async throws {
        let f = try Fixture()
        let token = f.bearer.token.encoded()
        try await f.app().test(.live) { client in
            let port = try #require(client.port)
            let requests: [(String, [String])] = [
                ("/v1/share", ["Authorization: Bearer \(token)"]),
                ("/nope", []),
                ("/v1/share", ["Authorization: Bearer \(token)"]),
                ("/v1/share", ["Authorization: Bearer vrm_not-a-token"]),
                ("/v1/share", ["Authorization: Bearer \(token)", "If-None-Match: \"v1\""]),
                ("/livez", []),
                ("/v1/share", ["Authorization: Bearer \(token)", "Connection: keep-alive"]),
                ("/v1/share", ["Authorization: Bearer \(token)"]),
            ]
            let text = requests.map { path, headers in
                (["GET \(path) HTTP/1.1", "Host: 127.0.0.1"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
            }.joined()
            let responses = try RawHTTP.exchange(port: port, send: Array(text.utf8), expecting: requests.count)
            #expect(responses.map(\.status) == [200, 404, 200, 401, 304, 200, 200, 200])
            for index in [0, 2, 6, 7] {
                #expect(responses[index].headers["etag"] == "\"v1\"")
                let signed = try JSONDecoder().decode(SignedShare.self, from: Data(responses[index].body))
                #expect(try signed.verified(expectedSigner: f.bearer.signerKey).document.data.profile == ["address.shipping": "1 Main St"])
            }
            #expect(responses[1].headers["content-type"] == "application/problem+json")
            #expect(responses[3].headers["content-type"] == "application/problem+json")
            #expect(responses[5].headers["etag"] == nil && responses[5].body == Array(#"{"status":"ok"}"#.utf8))
        }
        #expect(try f.vault.grants.grant(id: f.bearer.grant.id).useCount == 4)
        let entries = try f.vault.audit.entries()
        #expect(entries.filter { $0.event == "share.redeemed" }.count == 4)
        #expect(entries.filter { $0.event == "share.denied" }.count == 1)
    }

    @Test func aLiveServerOnAFreePortAnswersOverTCP() async throws {
        let f = try Fixture()
        try await f.app().test(.live) { client in
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(f.bearer.token.encoded())) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(String(repeating: "x", count: 10_240))) { response in
                #expect(response.status == .unauthorized)
            }
        }
        let entries = try f.vault.audit.entries()
        let redeemed = try #require(entries.first { $0.event == "share.redeemed" })
        #expect(redeemed.body.client == "127.0.0.1")
    }
}

/// A blocking HTTP/1.1 client on a raw socket, for what the test client cannot do (pipelining).
enum RawHTTP {
    struct Response {
        let status: Int
        /// Lower-cased names.
        let headers: [String: String]
        let body: [UInt8]
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends `bytes` in one write on a new connection to 127.0.0.1:`port`, then reads until
    /// `expecting` responses (with Content-Length bodies) have arrived; gives up after 90 s.
    static func exchange(port: Int, send bytes: [UInt8], expecting: Int) throws -> [Response] {
        // Generous: on 2 cores the other suites' blocking work can hold the cooperative pool for seconds.
        let fd = try VaultTestSupport.RawHTTP.connection(port: port, timeout: 90)
        defer { close(fd) }
        try VaultTestSupport.RawHTTP.write(bytes, to: fd)
        var buffer: [UInt8] = []
        var responses: [Response] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while responses.count < expecting {
            if let (response, used) = parse(buffer) {
                responses.append(response)
                buffer.removeFirst(used)
                continue
            }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                throw Failure(
                    description: count == 0 ? "connection ended after \(responses.count) responses" : "no answer within 90 s after \(responses.count) responses"
                )
            }
            buffer += chunk[..<count]
        }
        return responses
    }

    /// One whole response from the front of `bytes`, and how many bytes it took.
    static func parse(_ bytes: [UInt8]) -> (Response, Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<($0 + 4)]) == separator }) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusText = lines.first?.split(separator: " ").dropFirst().first, let status = Int(statusText) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let start = end + 4
        guard bytes.count >= start + length else { return nil }
        return (Response(status: status, headers: headers, body: Array(bytes[start..<(start + length)])), start + length)
    }
}
