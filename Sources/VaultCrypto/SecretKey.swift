internal import CSodium

/// Secret bytes held in `sodium_malloc` memory (guard pages, wiped and freed on deinit).
///
/// Not `Codable`, and its description never shows the bytes.
public final class SecretKey: @unchecked Sendable, CustomStringConvertible {
    /// Number of secret bytes.
    public let count: Int
    private let pointer: UnsafeMutableRawPointer
    /// The secret bytes as a typed pointer, for libsodium calls inside this module.
    var bytes: UnsafeMutablePointer<UInt8> { pointer.assumingMemoryBound(to: UInt8.self) }

    /// Allocates `count` zeroed secret bytes.
    public init(zeroedCount count: Int) throws {
        Sodium.ensureReady()
        guard count > 0, let pointer = sodium_malloc(count) else { throw CryptoError.outOfMemory }
        sodium_memzero(pointer, count)
        self.pointer = pointer
        self.count = count
    }

    /// Fills a new secret with `count` random bytes.
    public static func random(count: Int = 32) throws -> SecretKey {
        let key = try SecretKey(zeroedCount: count)
        randombytes_buf(key.bytes, key.count)
        return key
    }

    /// Copies `bytes` into secure memory and wipes the caller's array.
    public convenience init(wiping bytes: inout [UInt8]) throws {
        try self.init(zeroedCount: bytes.count)
        withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in dst.copyMemory(from: src) }
        }
        Wipe.bytes(&bytes)
    }

    /// Copies raw bytes into secure memory (the caller keeps responsibility for the source).
    public convenience init(copying source: UnsafeRawBufferPointer) throws {
        try self.init(zeroedCount: source.count)
        withUnsafeMutableBytes { $0.copyMemory(from: source) }
    }

    deinit {
        sodium_free(pointer)
    }

    /// Read access to the secret bytes for the duration of `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Write access to the secret bytes for the duration of `body`.
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    }

    /// Constant-time equality.
    public func constantTimeEquals(_ other: SecretKey) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in other.withUnsafeBytes { b in sodium_memcmp(a.baseAddress, b.baseAddress, count) == 0 } }
    }

    /// A copy whose bytes are exposed as an array, for writing into an encrypted container.
    /// The caller must wipe the result with `Wipe.bytes`.
    public func exposedCopy() -> [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    public var description: String { "SecretKey(redacted)" }
}

/// Wiping and constant-time helpers.
public enum Wipe {
    /// Overwrites the array's storage with zeros (`sodium_memzero`).
    public static func bytes(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) }
    }
}

/// Constant-time comparison of public-length byte strings (`sodium_memcmp`).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    Sodium.ensureReady()
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { x in b.withUnsafeBytes { y in sodium_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
}
