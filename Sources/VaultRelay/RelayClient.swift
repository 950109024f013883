public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
public import VaultCrypto

/// Why a relay request failed, for the CLI to say.
public enum RelayClientError: Error, CustomStringConvertible {
    /// No answer (refused, timed out, DNS, TLS).
    case unreachable(url: String, reason: String)
    /// The relay answered with a problem.
    case refused(status: Int, problem: String, title: String)
    /// The relay holds no such vault.
    case unknownVault
    /// The answer is not what the protocol says.
    case malformed(String)

    /// Text the relay sent, as an error may show it: printable ASCII only, at most 200
    /// characters, so a relay cannot write escape sequences or lines of its own to the terminal.
    public static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(200).map { (0x20...0x7E).contains($0.value) ? $0 : "?" }))
    }

    public var description: String {
        switch self {
        case .unreachable(let url, let reason): "cannot reach the relay at \(url): \(reason)"
        case .refused(let status, let problem, let title): "the relay refused the request (HTTP \(status), \(problem)): \(title)"
        case .unknownVault: "the relay holds no such vault (never linked there, or unlinked)"
        case .malformed(let what): "the relay's answer is malformed: \(what)"
        }
    }
}

/// The CLI's side of the relay's control API (`Specs/relay.md`): every request signed by the
/// vault's Ed25519 key.
public struct RelayClient: Sendable {
    public let baseURL: URL
    let vaultID: [UInt8]
    let signing: SigningKeyPair
    let session: URLSession
    /// Grants per push request: a push stays well under the relay's body limit.
    public static let pushBatch = 200

    public init(baseURL: URL, vaultID: [UInt8], signing: SigningKeyPair, timeout: TimeInterval = 15) {
        self.baseURL = baseURL
        self.vaultID = vaultID
        self.signing = signing
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 4
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.session = URLSession(configuration: configuration)
    }

    /// Checks a relay URL: https (plain http only to this machine's loopback), a host, no
    /// query, no credentials. Over plain HTTP anyone on the path could drop a revocation and
    /// answer that the relay took it, and would see every token a vendor presents.
    public static func parseURL(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil, url.user == nil, url.password == nil
        else {
            throw RelayClientError.malformed("\(RelayClientError.printable(text)) is not a relay URL (expected https://HOST[:PORT])")
        }
        guard scheme == "https" || isLoopback(host) else {
            throw RelayClientError.malformed("a relay must be reached over https (plain http only on this machine: 127.0.0.1, ::1, localhost)")
        }
        return url
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// The authority the signature names: the URL's host, and its port unless it is the
    /// scheme's default (what the `Host` header carries).
    static func authority(of url: URL) -> String {
        let host = (url.host ?? "").lowercased()
        guard let port = url.port, port != 80, port != 443 else { return host }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public func enrol(invite: String, boxKey: [UInt8]) async throws {
        let body = try RelayWire.encode(
            RelayWire.Enrolment(
                invite: invite, vaultID: Hex.encode(vaultID), signingKey: Base64URL.encode(signing.publicKey),
                boxKey: Base64URL.encode(boxKey)))
        _ = try await send("POST", "/v1/relay/vaults", body: body, expect: [201])
    }

    /// Pushes grants (in batches of `pushBatch`) and deletions; returns what the relay now holds.
    public func push(_ grants: [RelayWire.Grant], deleted: [String]) async throws -> [RelayWire.GrantStatus] {
        var statuses: [RelayWire.GrantStatus] = []
        var start = 0
        repeat {
            let batch = Array(grants[start..<min(grants.count, start + Self.pushBatch)])
            let body = try RelayWire.encode(RelayWire.Push(grants: batch, deleted: start == 0 ? deleted : []))
            let data = try await send("PUT", vaultPath("/grants"), body: body)
            statuses += try decode(RelayWire.GrantStatuses.self, data).grants
            start += Self.pushBatch
        } while start < grants.count
        return statuses
    }

    /// Gives the relay the vault's new X25519 key (after a key rotation).
    public func updateBoxKey(_ boxKey: [UInt8]) async throws {
        _ = try await send("PUT", vaultPath("/keys"), body: try RelayWire.encode(RelayWire.Keys(boxKey: Base64URL.encode(boxKey))), expect: [204])
    }

    /// A grant's latest webhook events at the relay.
    public func webhookEvents(grantID: String) async throws -> [RelayWire.WebhookEvents.Event] {
        let query = grantID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return try decode(RelayWire.WebhookEvents.self, try await send("GET", vaultPath("/webhooks") + "?grant=\(query)")).events
    }

    /// Gives the relay the notification key and the customer's channel.
    public func pushNotify(_ notify: RelayWire.Notify) async throws {
        _ = try await send("PUT", vaultPath("/notify"), body: try RelayWire.encode(notify), expect: [204])
    }

    /// Gives the relay request links to take requests for.
    public func pushLinks(_ links: [RelayWire.RequestLinks.Link]) async throws {
        _ = try await send("PUT", vaultPath("/links"), body: try RelayWire.encode(RelayWire.RequestLinks(links: links)), expect: [204])
    }

    /// The requests the relay holds that the customer has not decided.
    public func pendingRequests() async throws -> [RelayWire.PendingRequests.Request] {
        try decode(RelayWire.PendingRequests.self, try await send("GET", vaultPath("/requests"))).requests
    }

    /// Gives the relay the customer's decisions.
    public func pushDecisions(_ decisions: [RelayWire.Decisions.Decision]) async throws {
        _ = try await send("PUT", vaultPath("/requests"), body: try RelayWire.encode(RelayWire.Decisions(decisions: decisions)), expect: [204])
    }

    public func grantStatuses() async throws -> [RelayWire.GrantStatus] {
        try decode(RelayWire.GrantStatuses.self, try await send("GET", vaultPath("/grants"))).grants
    }

    public func history(after seq: Int64) async throws -> RelayWire.History {
        try decode(RelayWire.History.self, try await send("GET", vaultPath("/history") + "?after=\(seq)&limit=5000"))
    }

    public func acknowledge(through seq: Int64) async throws {
        _ = try await send("POST", vaultPath("/history/ack"), body: try RelayWire.encode(RelayWire.Ack(through: seq)), expect: [204])
    }

    public func status() async throws -> RelayWire.VaultStatus {
        try decode(RelayWire.VaultStatus.self, try await send("GET", vaultPath("")))
    }

    /// Deletes everything of the vault on the relay, then checks that the relay no longer knows it.
    public func unlink() async throws {
        _ = try await send("DELETE", vaultPath(""), expect: [204])
        do {
            _ = try await status()
            throw RelayClientError.malformed("the vault is still on the relay after it was deleted")
        } catch RelayClientError.unknownVault {
            return
        }
    }

    /// The relay's `/readyz`: "ready", "not ready", or why it could not be asked.
    public func health() async -> String {
        var request = URLRequest(url: url(for: "/readyz"))
        request.httpMethod = "GET"
        do {
            let (_, response) = try await session.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode == 200 ? "ready" : "not ready (its database does not answer)"
        } catch {
            return "unreachable (\(error.localizedDescription))"
        }
    }

    private func vaultPath(_ rest: String) -> String {
        "/v1/relay/vaults/\(Hex.encode(vaultID))\(rest)"
    }

    /// The URL of `target` (a path and query) under the base URL's own path.
    private func url(for target: String) -> URL {
        let base = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        return URL(string: base + target) ?? baseURL
    }

    private func send(_ method: String, _ target: String, body: Data = Data(), expect: Set<Int> = [200]) async throws -> Data {
        let url = url(for: target)
        var request = URLRequest(url: url)
        request.httpMethod = method
        let signedTarget = url.path + (url.query.map { "?" + $0 } ?? "")
        let signature = RequestSignature.sign(
            method: method, authority: Self.authority(of: url), path: signedTarget, body: [UInt8](body), vaultID: vaultID, key: signing)
        request.setValue(signature.text, forHTTPHeaderField: RequestSignature.header)
        request.setValue("vrm-relay-client/0.1", forHTTPHeaderField: "User-Agent")
        if !body.isEmpty {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw RelayClientError.unreachable(url: baseURL.absoluteString, reason: error.localizedDescription)
        }
        guard let http = response as? HTTPURLResponse else { throw RelayClientError.malformed("not HTTP") }
        if expect.contains(http.statusCode) { return data }
        let problem = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        let type = (problem?["type"] as? String).map { String($0.split(separator: ":").last ?? "") } ?? "unknown"
        if http.statusCode == 404, type == "unknown-vault" { throw RelayClientError.unknownVault }
        if http.statusCode >= 500 || http.statusCode == 503 {
            throw RelayClientError.unreachable(url: baseURL.absoluteString, reason: "HTTP \(http.statusCode) (\(RelayClientError.printable(type)))")
        }
        throw RelayClientError.refused(
            status: http.statusCode, problem: RelayClientError.printable(type), title: RelayClientError.printable((problem?["title"] as? String) ?? ""))
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try RelayWire.decode(type, data)
        } catch {
            throw RelayClientError.malformed("\(T.self)")
        }
    }
}
