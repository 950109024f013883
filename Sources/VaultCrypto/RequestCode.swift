/// A request code (`Specs/requests.md` §1): a public 16-byte selector and a 16-byte secret.
///
/// Text form: `vrmq_` + base64url(selector ‖ secret), 48 characters. The vault and the
/// endpoint keep the selector and `secretHash`; the secret also keys the MAC of the one
/// request the code admits (`mac(sealed:)`).
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

    /// BLAKE2b-256("vrm-request-code-v1" ‖ secret): what the vault and the endpoint keep.
    public var secretHash: [UInt8] {
        BLAKE2b.hash { input in
            input.append(utf8: "vrm-request-code-v1")
            secret.withUnsafeBytes { input.append($0) }
        }
    }

    /// True when this code's secret hashes to `storedHash` (constant time).
    public func matches(secretHash storedHash: [UInt8]) -> Bool {
        constantTimeEquals(secretHash, storedHash)
    }

    /// The request's MAC: BLAKE2b-256(key = secret, "vrm-request-v1" ‖ sealed).
    public func mac(sealed: [UInt8]) -> [UInt8] {
        BLAKE2b.hash([Array("vrm-request-v1".utf8), sealed], key: secret)
    }

    /// Whether `tag` is the MAC of `sealed` (constant time).
    public func verifies(mac tag: [UInt8], sealed: [UInt8]) -> Bool {
        tag.count == 32 && constantTimeEquals(tag, mac(sealed: sealed))
    }
}
