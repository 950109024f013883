/// A request code (`Specs/requests.md` §1): a public 16-byte selector and a 16-byte secret.
///
/// Text form: `vrmq_` + base64url(selector ‖ secret), 48 characters, in the link only: the
/// vendor presents the selector and `auth`, derived from the secret, and proves with the secret
/// itself that it holds the code (`proof(sealed:)`), which the endpoint cannot.
public struct RequestCode: Sendable {
    public static let selectorBytes = 16
    public static let secretBytes = 16
    static let prefix = "vrmq_"
    /// The length of the text form.
    public static let encodedLength = prefix.utf8.count + 43

    public let selector: [UInt8]
    public let secret: SecretKey

    public init(selector: [UInt8], secret: SecretKey) {
        self.selector = selector
        self.secret = secret
    }

    /// A fresh random code.
    public static func generate() throws -> RequestCode {
        RequestCode(selector: Random.bytes(selectorBytes), secret: try SecretKey.random(count: secretBytes))
    }

    /// Parses the text form; throws `malformedEncoding("request code")` for anything else.
    public static func parse(_ text: String) throws -> RequestCode {
        guard text.utf8.count == encodedLength, text.hasPrefix(prefix),
            var payload = Base64URL.decode(text.dropFirst(prefix.count)), payload.count == selectorBytes + secretBytes
        else { throw CryptoError.malformedEncoding("request code") }
        defer { Wipe.bytes(&payload) }
        let secret = try payload.withUnsafeBytes {
            try SecretKey(copying: UnsafeRawBufferPointer(rebasing: $0[selectorBytes...]), storage: .scratch)
        }
        return RequestCode(selector: Array(payload[0..<selectorBytes]), secret: secret)
    }

    /// The text form: shown in the request link, never stored.
    public func encoded() -> String {
        var payload = selector + secret.exposedCopy()
        defer { Wipe.bytes(&payload) }
        return Self.prefix + Base64URL.encode(payload)
    }

    /// What the vendor presents instead of the code: BLAKE2b-256("vrm-request-auth-v1" ‖ secret).
    /// The endpoint learns it, never the secret.
    public var auth: [UInt8] {
        BLAKE2b.hash { input in
            input.append(utf8: "vrm-request-auth-v1")
            secret.withUnsafeBytes { input.append($0) }
        }
    }

    /// What the vault and the endpoint keep: `RequestAuth.hash(auth)`.
    public var secretHash: [UInt8] { RequestAuth.hash(auth) }

    /// The request's proof, which only the code's holder can make (the endpoint cannot):
    /// BLAKE2b-256(key = K, "vrm-request-proof-v1" ‖ sealed), K = BLAKE2b-256(key = secret,
    /// "vrm-request-proof-key-v1").
    public func proof(sealed: [UInt8]) throws -> [UInt8] {
        let key = try BLAKE2b.deriveSecret(key: secret, storage: .scratch) { input in input.append(utf8: "vrm-request-proof-key-v1") }
        return BLAKE2b.hash([Array("vrm-request-proof-v1".utf8), sealed], key: key)
    }

    /// Whether `tag` is the proof of `sealed` (constant time).
    public func verifies(proof tag: [UInt8], sealed: [UInt8]) -> Bool {
        guard tag.count == 32, let expected = try? proof(sealed: sealed) else { return false }
        return constantTimeEquals(tag, expected)
    }

    /// The transit MAC, which the endpoint checks: `RequestAuth.mac`.
    public func mac(sealed: [UInt8]) -> [UInt8] {
        RequestAuth(selector: selector, auth: auth).mac(sealed: sealed)
    }
}

/// A request code as the endpoint sees it (`Specs/requests.md` §2): the selector and the
/// `auth` derived from the secret. Enough to check the code and the transit MAC; not enough to
/// make a request's proof.
public struct RequestAuth: Sendable {
    public let selector: [UInt8]
    public let auth: [UInt8]

    public init(selector: [UInt8], auth: [UInt8]) {
        self.selector = selector
        self.auth = auth
    }

    /// BLAKE2b-256("vrm-request-code-v1" ‖ auth): what the vault and the endpoint keep.
    public static func hash(_ auth: [UInt8]) -> [UInt8] {
        BLAKE2b.hash([Array("vrm-request-code-v1".utf8), auth])
    }

    /// True when `auth` hashes to `storedHash` (constant time).
    public func matches(secretHash storedHash: [UInt8]) -> Bool {
        constantTimeEquals(Self.hash(auth), storedHash)
    }

    /// The transit MAC: BLAKE2b-256(key = auth, "vrm-request-v1" ‖ sealed). It catches a body
    /// changed on the way; it is no proof against the endpoint, which knows `auth`.
    public func mac(sealed: [UInt8]) -> [UInt8] {
        auth.withUnsafeBytes { raw in
            guard let key = try? SecretKey(copying: raw, storage: .scratch) else { return [] }
            return BLAKE2b.hash([Array("vrm-request-v1".utf8), sealed], key: key)
        }
    }

    /// Whether `tag` is the transit MAC of `sealed` (constant time).
    public func verifies(mac tag: [UInt8], sealed: [UInt8]) -> Bool {
        tag.count == 32 && constantTimeEquals(tag, mac(sealed: sealed))
    }
}
