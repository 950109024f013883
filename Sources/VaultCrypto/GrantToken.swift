/// A grant token: a public 16-byte selector and a 32-byte secret.
///
/// Text form: `vrm_` + base64url(selector ‖ secret) + 6-character checksum (74 characters).
/// The database keeps only the selector and `secretHash`; see `Specs/token-format.md`.
public struct GrantToken: Sendable {
    public static let selectorBytes = 16
    public static let secretBytes = 32
    static let codec = ChecksummedText(prefix: "vrm_", domain: "vrm-token-v1", payloadBytes: 48)

    /// Longest text a token can be; anything longer is rejected before decoding.
    public static var encodedLength: Int { codec.totalChars }

    /// Identifies the grant row; not secret.
    public let selector: [UInt8]
    /// The bearer secret, in secure memory.
    public let secret: SecretKey

    /// A fresh random token.
    public static func generate() throws -> GrantToken {
        GrantToken(selector: Random.bytes(selectorBytes), secret: try SecretKey.random(count: secretBytes))
    }

    init(selector: [UInt8], secret: SecretKey) {
        self.selector = selector
        self.secret = secret
    }

    /// Parses the text form; throws `malformedEncoding("token")` for anything else.
    public static func parse(_ text: Substring) throws -> GrantToken {
        guard text.utf8.count == codec.totalChars, var payload = codec.decode(text) else {
            throw CryptoError.malformedEncoding("token")
        }
        defer { Wipe.bytes(&payload) }
        let selector = Array(payload[0..<selectorBytes])
        // A presented token lives for one request: scratch memory, wiped on release.
        let secret = try payload.withUnsafeBytes { try SecretKey(copying: UnsafeRawBufferPointer(rebasing: $0[selectorBytes...]), storage: .scratch) }
        return GrantToken(selector: selector, secret: secret)
    }

    public static func parse(_ text: String) throws -> GrantToken { try parse(text[...]) }

    /// The text form. This is the one place a token becomes a `String`: to be shown once.
    public func encoded() -> String {
        var payload = selector + secret.exposedCopy()
        defer { Wipe.bytes(&payload) }
        return Self.codec.encode(payload)
    }

    /// BLAKE2b-256("vrm-token-hash-v1" ‖ secret): what the database stores.
    public var secretHash: [UInt8] {
        Self.hashSecret(secret)
    }

    static func hashSecret(_ secret: SecretKey) -> [UInt8] {
        BLAKE2b.hash { input in
            input.append(hashDomain)
            secret.withUnsafeBytes { input.append($0) }
        }
    }

    private static let hashDomain = Array("vrm-token-hash-v1".utf8)
    private static let shareKeyDomain = Array("vrm-share-key-v1".utf8)

    /// The bearer share key: keyed BLAKE2b-256(key = secret, "vrm-share-key-v1" ‖ grant id).
    public func shareKey(grantID: String) throws -> SecretKey {
        try BLAKE2b.deriveSecret(key: secret, storage: .scratch) { input in
            input.append(Self.shareKeyDomain)
            input.append(utf8: grantID)
        }
    }

    /// True when this token's secret hashes to `storedHash` (constant time).
    public func matches(secretHash storedHash: [UInt8]) -> Bool {
        constantTimeEquals(secretHash, storedHash)
    }
}
