public import Foundation

/// `vrm serve --trusted-proxy CIDR`: the reverse proxies whose word about the client is taken.
/// Only when the TCP peer is one of them is the client read from `Forwarded` (RFC 7239) or,
/// without it, `X-Forwarded-For`: walking the chain from the right, the first address that is
/// not a trusted proxy is the client. A hop that is not an IP address (`unknown`, an
/// obfuscated name) ends the walk at the trusted proxy that reported it. With no trusted
/// proxies, or from any other peer, the peer is the client: a header alone proves nothing.
public struct TrustedProxies: Sendable {
    /// One network: its address bytes (4 or 16) and prefix length.
    struct Network: Sendable, Equatable {
        let bytes: [UInt8]
        let prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var left = prefix
            for (a, b) in zip(address, bytes) {
                guard left > 0 else { return true }
                let bits = min(8, left)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if a & mask != b & mask { return false }
                left -= bits
            }
            return true
        }
    }

    let networks: [Network]

    /// No trusted proxies: the peer is always the client.
    public static let none = TrustedProxies(networks: [])

    init(networks: [Network]) {
        self.networks = networks
    }

    /// Parses `CIDR` texts (`10.0.0.0/8`, `2001:db8::/32`, or one address: `/32`, `/128`).
    public init(parsing texts: [String]) throws {
        networks = try texts.map { text in
            let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let bytes = Self.addressBytes(String(parts[0])) else {
                throw TrustedProxyError(text: text)
            }
            let prefix = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let prefix, (0...(bytes.count * 8)).contains(prefix) else { throw TrustedProxyError(text: text) }
            return Network(bytes: bytes, prefix: prefix)
        }
    }

    /// The client of a request that arrived from `peer` with these headers.
    public func client(peer: String, forwarded: String?, forwardedFor: String?) -> String {
        guard !networks.isEmpty, isTrusted(peer) else { return peer }
        let hops: [String?]
        if let forwarded {
            hops = Self.forwardedFor(forwarded)
        } else if let forwardedFor {
            hops = forwardedFor.split(separator: ",").map { Self.normalisedAddress(String($0)) }
        } else {
            return peer
        }
        var nearest = peer
        for hop in hops.reversed() {
            guard let hop else { return nearest }
            guard isTrusted(hop) else { return hop }
            nearest = hop
        }
        return nearest
    }

    func isTrusted(_ address: String) -> Bool {
        guard let bytes = Self.addressBytes(address) else { return false }
        return networks.contains { $0.contains(bytes) }
    }

    /// The `for=` of each element of a `Forwarded` value, in order; nil where it is not an IP address.
    static func forwardedFor(_ value: String) -> [String?] {
        value.split(separator: ",").map { element in
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
                return normalisedAddress(String(parts[1]))
            }
            return nil
        }
    }

    /// An address as written in a header (`"[2001:db8::1]:4711"`, `192.0.2.7:80`, quoted or
    /// not), as the server writes addresses elsewhere; nil when it is not an IP address.
    static func normalisedAddress(_ raw: String) -> String? {
        var text = raw.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            text = String(text[text.index(after: text.startIndex)..<close])
        } else if text.filter({ $0 == ":" }).count == 1 {
            text = String(text.split(separator: ":")[0])  // IPv4 with a port
        }
        guard let bytes = addressBytes(text) else { return nil }
        return bytes.count == 4 ? bytes.map(String.init).joined(separator: ".") : canonicalIPv6(bytes)
    }

    static func addressBytes(_ text: String) -> [UInt8]? {
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: &address) { Array($0) }
            // An IPv4-mapped address (a dual-stack listener's IPv4 peer) is that IPv4 address.
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12..<16]) }
            return bytes
        }
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    static func canonicalIPv6(_ bytes: [UInt8]) -> String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "unknown" }
        return String(cString: buffer)
    }
}

/// A `--trusted-proxy` that is not an address or CIDR.
public struct TrustedProxyError: Error, CustomStringConvertible {
    let text: String
    public var description: String {
        "--trusted-proxy \(text.prefix(60)) is not an IP address or CIDR (such as 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32)"
    }
}
