/// The text form shared by tokens and keys: `prefix ‖ base64url(payload) ‖ base64url(checksum)`,
/// where checksum = the first 4 bytes of BLAKE2b-256(domain ‖ payload). See `Specs/token-format.md`.
struct ChecksummedText {
    let prefix: String
    let domain: String
    let payloadBytes: Int
    private let prefixBytes: [UInt8]
    private let domainBytes: [UInt8]

    init(prefix: String, domain: String, payloadBytes: Int) {
        self.prefix = prefix
        self.domain = domain
        self.payloadBytes = payloadBytes
        prefixBytes = Array(prefix.utf8)
        domainBytes = Array(domain.utf8)
    }

    static let checksumBytes = 4
    static let checksumChars = 6

    var payloadChars: Int { (payloadBytes * 8 + 5) / 6 }
    var totalChars: Int { prefix.utf8.count + payloadChars + Self.checksumChars }

    func checksum(_ payload: [UInt8]) -> [UInt8] {
        Array(
            BLAKE2b.hash { input in
                input.append(domainBytes)
                input.append(payload)
            }.prefix(Self.checksumBytes))
    }

    func encode(_ payload: [UInt8]) -> String {
        prefix + Base64URL.encode(payload) + Base64URL.encode(checksum(payload))
    }

    /// Decodes the payload; nil for a wrong prefix, length, alphabet or checksum.
    /// The caller must wipe the payload if it is secret.
    func decode(_ text: Substring) -> [UInt8]? {
        let utf8 = text.utf8
        if let result = utf8.withContiguousStorageIfAvailable({ decode(bytes: $0) }) { return result }
        return Array(utf8).withUnsafeBufferPointer { decode(bytes: $0) }
    }

    /// The same on raw bytes, so secret key files never pass through a `String`.
    func decode(bytes text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard text.count == totalChars, text.prefix(prefixBytes.count).elementsEqual(prefixBytes) else { return nil }
        let payloadStart = prefixBytes.count, checksumStart = prefixBytes.count + payloadChars
        guard var payload = Base64URL.decode(bytes: UnsafeBufferPointer(rebasing: text[payloadStart..<checksumStart])) else { return nil }
        guard payload.count == payloadBytes,
            let sum = Base64URL.decode(bytes: UnsafeBufferPointer(rebasing: text[checksumStart...])), sum.count == Self.checksumBytes,
            constantTimeEquals(sum, checksum(payload))
        else {
            Wipe.bytes(&payload)
            return nil
        }
        return payload
    }
}
