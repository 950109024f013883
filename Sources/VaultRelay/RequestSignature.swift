public import Foundation
public import VaultCrypto

/// Every control request after enrolment is signed by the vault's Ed25519 key, in the header
/// `VRM-Signature: v1;vault=<hex>;ts=<unix ms>;nonce=<base64url>;sig=<base64url>` over
///
///     "vrm-relay-request-v2" LF method LF authority LF path-and-query LF vault-hex LF ts LF nonce LF base64url(BLAKE2b-256(body))
///
/// where the authority is the relay's host (and port, unless 80 or 443) as the `Host` header
/// names it, so a request signed for one relay does not verify at another. The relay accepts a
/// timestamp within `window` of its clock and each nonce once (`Specs/relay.md`, Signed requests).
public struct RequestSignature: Sendable, Equatable {
    public static let header = "VRM-Signature"
    /// How far a request's time may be from the relay's.
    public static let windowMillis: Int64 = 5 * 60 * 1000

    public var vaultID: [UInt8]
    public var timestampMillis: Int64
    public var nonce: [UInt8]
    public var signature: [UInt8]

    /// Signs a request.
    public static func sign(
        method: String, authority: String, path: String, body: [UInt8], vaultID: [UInt8], key: SigningKeyPair, now: Date = Date()
    ) -> RequestSignature {
        let nonce = Random.bytes(16)
        let ts = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        let message = Self.message(
            method: method, authority: authority, path: path, body: body, vaultID: vaultID, timestampMillis: ts, nonce: nonce)
        return RequestSignature(vaultID: vaultID, timestampMillis: ts, nonce: nonce, signature: key.sign(message))
    }

    /// The signed bytes.
    static func message(
        method: String, authority: String, path: String, body: [UInt8], vaultID: [UInt8], timestampMillis: Int64, nonce: [UInt8]
    ) -> [UInt8] {
        let lines = [
            "vrm-relay-request-v2", method.uppercased(), normalised(authority), path, Hex.encode(vaultID), String(timestampMillis),
            Base64URL.encode(nonce),
            Base64URL.encode(BLAKE2b.hash(body)),
        ]
        return Array(lines.joined(separator: "\n").utf8)
    }

    /// The header's value.
    public var text: String {
        "v1;vault=\(Hex.encode(vaultID));ts=\(timestampMillis);nonce=\(Base64URL.encode(nonce));sig=\(Base64URL.encode(signature))"
    }

    /// Parses a header value; nil when it is not one.
    public static func parse(_ text: String) -> RequestSignature? {
        guard text.utf8.count <= 512 else { return nil }
        var fields: [Substring: Substring] = [:]
        let parts = text.split(separator: ";")
        guard parts.first == "v1" else { return nil }
        for part in parts.dropFirst() {
            guard let equals = part.firstIndex(of: "=") else { return nil }
            fields[part[..<equals]] = part[part.index(after: equals)...]
        }
        guard fields.count == 4,
            let vault = fields["vault"].flatMap({ Hex.decode(String($0)) }), vault.count == 16,
            let ts = fields["ts"].flatMap({ Int64($0) }),
            let nonce = fields["nonce"].flatMap({ Base64URL.decode($0) }), nonce.count == 16,
            let signature = fields["sig"].flatMap({ Base64URL.decode($0) }), signature.count == SigningKeyPair.signatureBytes
        else { return nil }
        return RequestSignature(vaultID: vault, timestampMillis: ts, nonce: nonce, signature: signature)
    }

    /// An authority as both sides compare it: lower case, without a default port.
    static func normalised(_ authority: String) -> String {
        var text = authority.lowercased()
        for port in [":80", ":443"] where text.hasSuffix(port) { text.removeLast(port.count) }
        return text
    }

    /// Whether the signature is `publicKey`'s over this request (sent to `authority`, the
    /// request's `Host`) and its time is within the window.
    public func verifies(
        method: String, authority: String, path: String, body: [UInt8], publicKey: [UInt8], nowMillis: Int64
    ) -> Bool {
        let (difference, overflow) = nowMillis.subtractingReportingOverflow(timestampMillis)
        guard !overflow, difference.magnitude <= UInt64(Self.windowMillis) else { return false }
        let message = Self.message(
            method: method, authority: authority, path: path, body: body, vaultID: vaultID, timestampMillis: timestampMillis, nonce: nonce)
        return Signature.verify(signature, message: message, publicKey: publicKey)
    }
}
