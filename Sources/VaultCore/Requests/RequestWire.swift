public import Foundation
public import VaultCrypto

/// The body of `POST /v1/requests` (`Specs/requests.md` §2): the request link's code as the
/// endpoint may see it (its selector and `auth`, never the secret), the request sealed to the
/// vault's X25519 key, the transit MAC (keyed by `auth`: the endpoint checks it) and the proof
/// (keyed by the secret: only the CLI can check it, so the endpoint cannot swap the request).
public struct RequestSubmission: Codable, Sendable {
    public var selector: String
    public var auth: String
    public var sealed: String
    public var mac: String
    public var proof: String

    public init(selector: String, auth: String, sealed: String, mac: String, proof: String) {
        self.selector = selector
        self.auth = auth
        self.sealed = sealed
        self.mac = mac
        self.proof = proof
    }

    /// Missing members are empty: a body without a code is answered as a wrong code (403),
    /// whatever else it holds.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func text(_ key: CodingKeys) -> String { (try? c.decodeIfPresent(String.self, forKey: key)) ?? "" }
        self.init(selector: text(.selector), auth: text(.auth), sealed: text(.sealed), mac: text(.mac), proof: text(.proof))
    }

    enum CodingKeys: String, CodingKey {
        case selector, auth, sealed, mac, proof
    }

    /// A submission made with the code itself (the vendor's side; tests and examples).
    public init(code: RequestCode, sealed: [UInt8]) throws {
        self.init(
            selector: Base64URL.encode(code.selector), auth: Base64URL.encode(code.auth), sealed: Base64URL.encode(sealed),
            mac: Base64URL.encode(code.mac(sealed: sealed)), proof: Base64URL.encode(try code.proof(sealed: sealed)))
    }
}

/// Why an endpoint refuses a request or an outcome lookup, the same at `vrm serve` and the relay.
public enum RequestRefusal: Error, Equatable, Sendable {
    /// Unknown, used or expired code (one answer for all three): counted as a failure.
    case invalidCode
    /// The body is not the contract's (a sealed request over `RequestLimits.maxSealedBytes`
    /// included), or its MAC does not match.
    case invalidBody
    /// No request with that id: counted as a failure.
    case unknownRequest
}

/// Sizes and lifetimes of `Specs/requests.md`.
public enum RequestLimits {
    /// The request JSON before sealing.
    public static let maxRequestBytes = 16 * 1024
    /// `crypto_box_seal` adds 48 bytes.
    public static let maxSealedBytes = maxRequestBytes + 48
    /// The whole `POST /v1/requests` body.
    public static let maxBodyBytes = 64 * 1024
    /// How long after a link's expiry an undecided request still answers `pending`.
    public static let pendingGraceMillis: Int64 = 7 * 86_400_000
    /// How long a sealed token is kept after the decision.
    public static let sealedTokenMillis: Int64 = 7 * 86_400_000
    /// The longest a link may live, and the longest grant a request may ask for.
    public static let maxLinkSeconds: Int64 = 90 * 86_400
    public static let maxExpiresInSeconds: Int64 = 10 * 365 * 86_400
}

/// `rq_` + 26 base32 characters (128 random bits).
public enum RequestID {
    public static func generate() -> String { "rq_" + Base32.encode(Random.bytes(16)) }

    /// Whether `text` has the form of a request id (checked before any lookup).
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 29 && text.hasPrefix("rq_") && text.utf8.dropFirst(3).allSatisfy { (0x61...0x7a).contains($0) || (0x32...0x37).contains($0) }
    }
}

/// What `GET /v1/requests/{id}` answers (`Specs/requests.md` §4).
public struct RequestOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case pending, approved, denied, expired }

    public var id: String
    public var status: Status
    /// RFC 3339.
    public var decidedAt: String?
    public var grantID: String?
    public var endpoint: String?
    /// The grant token sealed to the vendor's X25519 key (base64url).
    public var tokenSealed: String?

    public init(id: String, status: Status, decidedAt: String? = nil, grantID: String? = nil, endpoint: String? = nil, tokenSealed: String? = nil) {
        self.id = id
        self.status = status
        self.decidedAt = decidedAt
        self.grantID = grantID
        self.endpoint = endpoint
        self.tokenSealed = tokenSealed
    }

    enum CodingKeys: String, CodingKey {
        case id, status, endpoint
        case decidedAt = "decided_at", grantID = "grant_id", tokenSealed = "token_sealed"
    }

    /// The answer from what an endpoint stores, at `nowMillis`.
    public static func from(
        id: String, status: String, decidedAt: Int64?, grantID: String?, endpoint: String?, tokenSealed: [UInt8]?, linkExpiresAt: Int64,
        nowMillis: Int64
    ) -> RequestOutcome {
        let decided = decidedAt.map { Timestamp.string(millis: $0) }
        switch status {
        case "approved":
            let keep = decidedAt.map { nowMillis < $0.saturatingAdd(RequestLimits.sealedTokenMillis) } ?? false
            return RequestOutcome(
                id: id, status: .approved, decidedAt: decided, grantID: grantID, endpoint: endpoint,
                tokenSealed: keep ? tokenSealed.map(Base64URL.encode) : nil)
        case "denied":
            return RequestOutcome(id: id, status: .denied, decidedAt: decided)
        default:
            return nowMillis > linkExpiresAt.saturatingAdd(RequestLimits.pendingGraceMillis)
                ? RequestOutcome(id: id, status: .expired) : RequestOutcome(id: id, status: .pending)
        }
    }
}

/// The request a vendor seals (`Specs/requests.md` §2), snake_case.
public struct AccessRequestBody: Codable, Sendable, Equatable {
    public struct VendorInfo: Codable, Sendable, Equatable {
        public var name: String
        public var site: String?
        public var contact: String?

        public init(name: String, site: String? = nil, contact: String? = nil) {
            self.name = name
            self.site = site
            self.contact = contact
        }
    }

    public var vendor: VendorInfo
    public var vendorKey: String
    public var scopes: [String]
    public var purpose: String
    public var expiresIn: Int64
    public var maxUses: Int?
    public var terms: ProfferedTerms?
    public var notifyURL: String?

    public init(
        vendor: VendorInfo, vendorKey: String, scopes: [String], purpose: String, expiresIn: Int64, maxUses: Int? = nil,
        terms: ProfferedTerms? = nil, notifyURL: String? = nil
    ) {
        self.vendor = vendor
        self.vendorKey = vendorKey
        self.scopes = scopes
        self.purpose = purpose
        self.expiresIn = expiresIn
        self.maxUses = maxUses
        self.terms = terms
        self.notifyURL = notifyURL
    }

    enum CodingKeys: String, CodingKey {
        case vendor, scopes, purpose, terms
        case vendorKey = "vendor_key", expiresIn = "expires_in", maxUses = "max_uses", notifyURL = "notify_url"
    }

    /// Decodes and checks a request opened from its box; the reason in words when it breaks a rule.
    public static func decode(_ bytes: [UInt8]) throws -> AccessRequestBody {
        guard bytes.count <= RequestLimits.maxRequestBytes else { throw VaultError.invalidInput("the request is larger than 16 KiB") }
        let body: AccessRequestBody
        do {
            body = try JSONDecoder().decode(AccessRequestBody.self, from: Data(bytes))
        } catch {
            throw VaultError.invalidInput("the request is not the JSON of Specs/requests.md §2")
        }
        try body.check()
        return body
    }

    /// Whether `name` has letters of more than one of the Latin, Greek and Cyrillic scripts: how
    /// a look-alike of a known name is written ("Аcme" with a Cyrillic А).
    static func mixesScripts(_ name: String) -> Bool {
        var scripts = Set<Int>()
        for scalar in name.unicodeScalars where scalar.properties.isAlphabetic {
            switch scalar.value {
            case 0x41...0x24F, 0x1E00...0x1EFF: scripts.insert(0)
            case 0x370...0x3FF, 0x1F00...0x1FFF: scripts.insert(1)
            case 0x400...0x52F, 0x2DE0...0x2DFF, 0xA640...0xA69F: scripts.insert(2)
            default: break
            }
        }
        return scripts.count > 1
    }

    /// The rules of §2: lengths, a vendor key, known scopes and purpose, a bounded duration.
    public func check() throws {
        func text(_ value: String?, _ name: String, max: Int = 200) throws {
            guard let value else { return }
            // No control characters, no bidirectional overrides, no invisible format characters:
            // what the customer reads at approval is what the vendor sent.
            let unsafe = value.unicodeScalars.contains { ImportProblem.isUnsafe($0) || $0.properties.generalCategory == .format }
            // Counted in characters, and in scalars too: one "character" can carry thousands of marks.
            guard !value.isEmpty, value.count <= max, value.unicodeScalars.count <= 2 * max, !unsafe else {
                throw VaultError.invalidInput("\(name) must be 1-\(max) characters without control, direction or format characters")
            }
        }
        try text(vendor.name, "vendor.name")
        if Self.mixesScripts(vendor.name) {
            throw VaultError.invalidInput("vendor.name mixes Latin, Greek and Cyrillic letters (a look-alike of another name?)")
        }
        guard !vendor.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw VaultError.invalidInput("vendor.name is blank") }
        try text(vendor.site, "vendor.site")
        try text(vendor.contact, "vendor.contact")
        // Exactly the key's text (no spaces or line ends around it): it is shown to the customer.
        guard let key = try? VendorKeyText.decodePublic(vendorKey), VendorKeyText.encodePublic(key) == vendorKey else {
            throw VaultError.invalidInput("vendor_key is not a vrmpk1_ public key")
        }
        guard !scopes.isEmpty, scopes.count <= 64 else { throw VaultError.invalidInput("scopes must list 1-64 scopes") }
        for scope in scopes { _ = try Scope.parse(scope) }
        _ = try Purpose.parse(purpose)
        guard (60...RequestLimits.maxExpiresInSeconds).contains(expiresIn) else {
            throw VaultError.invalidInput("expires_in must be 60 seconds to 10 years")
        }
        if let maxUses { guard maxUses >= 1 else { throw VaultError.invalidInput("max_uses must be a positive whole number") } }
        if let terms {
            guard terms.id != nil || terms.url != nil else { throw VaultError.invalidInput("terms needs an id or a url") }
            try text(terms.id, "terms.id")
            try text(terms.url, "terms.url", max: 2000)
        }
        if let notifyURL { try NotifyURL.check(notifyURL) }
    }
}

/// The rule for notification URLs (`Specs/requests.md` §5): https, or http to this machine
/// only (`localhost`, or a loopback address `127.x.x.x`). An address must be written as four
/// decimal numbers (other spellings — `10.1`, `0x0a.0.0.1`, `012.0.0.1`, `167772161` — reach
/// addresses no one reading the URL would see) and must not be a private, link-local, shared,
/// multicast or unspecified one: a vendor chooses its URL, and the endpoint must not be made to
/// post into the network it stands in. IPv6 receivers are named by a name. A name is not
/// resolved here: a name that points into such a network is the limit of this rule.
public enum NotifyURL {
    /// Whether `text` names this machine (`localhost`, a `127.x.x.x` address): `vrm serve`'s
    /// machine is the customer's, a relay's is its operator's, which sends there only when told to.
    public static func isLoopback(_ text: String) -> Bool {
        guard var host = URLComponents(string: text)?.host?.lowercased() else { return false }
        if host.hasSuffix(".") { host.removeLast() }
        return host == "localhost" || IPAddressClass.of(host) == .loopback
    }

    /// Whether `host` is written as an address (four numbers), not a name.
    public static func isAddress(_ host: String) -> Bool { IPAddressClass.of(host) != nil }

    /// What a relay that does not send to its own machine records for such a delivery.
    public static let loopbackRefusal =
        "not sent: this relay does not send to its own machine (127.0.0.1, localhost); its operator can allow it with vrm relay serve --allow-loopback-receivers"

    public static func check(_ text: String) throws {
        guard text.count <= 2000, !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }),
            let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), let rawHost = components.host,
            !rawHost.isEmpty
        else {
            throw VaultError.invalidInput(
                "a notification URL must be an absolute URL such as https://ntfy.sh/TOPIC (scheme and host, no spaces): \(ImportProblem.shown(text, 80))")
        }
        guard components.user == nil, components.password == nil, components.fragment == nil else {
            throw VaultError.invalidInput("a notification URL may hold no user, password or #fragment")
        }
        if let port = components.port, !(1...65_535).contains(port) {
            throw VaultError.invalidInput("a notification URL's port must be 1-65535")
        }
        guard scheme == "https" || scheme == "http" else {
            throw VaultError.invalidInput("a notification URL must use https, not \(scheme.prefix(20))")
        }
        var host = rawHost.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        let shown = text.prefix(80)
        if host.contains(":") || host.hasPrefix("[") {
            throw VaultError.invalidInput("a notification URL must name an IPv6 receiver by a name, not an address: \(shown)")
        }
        let address = IPAddressClass.of(host)
        if address == .malformed {
            throw VaultError.invalidInput("a notification URL must write an address as four decimal numbers (such as 127.0.0.1): \(shown)")
        }
        let local = host == "localhost" || address == .loopback
        if let address, address != .public, address != .loopback {
            let article = "aeiou".contains(address.rawValue.prefix(1)) ? "an" : "a"
            throw VaultError.invalidInput("a notification URL must not name \(article) \(address.rawValue) address: \(shown)")
        }
        if scheme == "http", !local {
            throw VaultError.invalidInput("a notification URL must use https (http only to 127.0.0.1 or localhost): \(shown)")
        }
    }
}

/// What kind of address a URL's host is, when it is an IPv4 address.
enum IPAddressClass: String {
    case loopback, `private`, linkLocal = "link-local", shared, unspecified, multicast, `public`
    /// A host whose last label starts with a digit but is not four decimal numbers.
    case malformed

    /// nil when `host` is a name (its last label does not start with a digit).
    static func of(_ host: String) -> IPAddressClass? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard let last = parts.last, let first = last.first, first.isNumber else { return nil }
        let canonical =
            parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy { ("0"..."9").contains($0) } && (part == "0" || !part.hasPrefix("0"))
            }
        guard canonical else { return .malformed }
        let o = parts.compactMap { Int($0) }
        guard o.count == 4, o.allSatisfy({ (0...255).contains($0) }) else { return .malformed }
        switch (o[0], o[1]) {
        case (127, _): return .loopback
        case (10, _), (172, 16...31), (192, 168): return .private
        case (169, 254): return .linkLocal
        case (100, 64...127): return .shared
        case (0, _): return .unspecified
        case (224...255, _): return .multicast
        default: return .public
        }
    }
}

extension AccessRequestBody {
    /// A duration in words, in its largest whole unit: "30 days", "12 hours", "90 seconds".
    public static func words(forDuration seconds: Int64) -> String {
        let (unit, size): (String, Int64) =
            seconds % 86_400 == 0 ? ("day", 86_400) : seconds % 3600 == 0 ? ("hour", 3600) : seconds % 60 == 0 ? ("minute", 60) : ("second", 1)
        let count = seconds / size
        return "\(count) \(unit)\(count == 1 ? "" : "s")"
    }
}
