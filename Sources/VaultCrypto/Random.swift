internal import CSodium

/// Random bytes and identifiers from `randombytes_buf`.
public enum Random {
    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: count)
        randombytes_buf(&out, count)
        return out
    }

    /// A random identifier: `prefix` followed by 16 base32 characters (80 random bits).
    public static func identifier(prefix: String = "") -> String {
        prefix + Base32.encode(bytes(10))
    }
}

/// Lower-case RFC 4648 base32 without padding (for ids people type).
public enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return out
    }
}
