internal import CSodium

/// Secret bytes, wiped on deinit. Long-lived keys sit in `sodium_malloc` memory (guard pages,
/// `mlock`); short-lived per-request secrets (a presented token, the share key derived from it)
/// use `scratch` memory, wiped with `sodium_memzero` and freed, because `sodium_malloc` costs
/// several system calls per allocation.
///
/// Not `Codable`, and its description never shows the bytes.
public final class SecretKey: @unchecked Sendable, CustomStringConvertible {
    /// Where the bytes live.
    public enum Storage: Sendable {
        /// `sodium_malloc`: guard pages and locked memory, for keys that live long.
        case guarded
        /// Ordinary heap memory, zeroed on free, for secrets that live for one request.
        case scratch
    }

    /// Number of secret bytes.
    public let count: Int
    private let storage: Storage
    private let pointer: UnsafeMutableRawPointer
    /// The secret bytes as a typed pointer, for libsodium calls inside this module.
    var bytes: UnsafeMutablePointer<UInt8> { pointer.assumingMemoryBound(to: UInt8.self) }

    /// Allocates `count` zeroed secret bytes.
    public init(zeroedCount count: Int, storage: Storage = .guarded) throws {
        Sodium.ensureReady()
        guard count > 0 else { throw CryptoError.outOfMemory }
        switch storage {
        case .guarded:
            guard let pointer = sodium_malloc(count) else { throw CryptoError.outOfMemory }
            self.pointer = pointer
        case .scratch:
            pointer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
        }
        sodium_memzero(pointer, count)
        self.count = count
        self.storage = storage
    }

    /// Fills a new secret with `count` random bytes.
    public static func random(count: Int = 32) throws -> SecretKey {
        let key = try SecretKey(zeroedCount: count)
        randombytes_buf(key.bytes, key.count)
        return key
    }

    /// Copies `bytes` into secure memory and wipes the caller's array.
    public convenience init(wiping bytes: inout [UInt8], storage: Storage = .guarded) throws {
        try self.init(zeroedCount: bytes.count, storage: storage)
        withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in dst.copyMemory(from: src) }
        }
        Wipe.bytes(&bytes)
    }

    /// Copies raw bytes into secure memory (the caller keeps responsibility for the source).
    public convenience init(copying source: UnsafeRawBufferPointer, storage: Storage = .guarded) throws {
        try self.init(zeroedCount: source.count, storage: storage)
        withUnsafeMutableBytes { $0.copyMemory(from: source) }
    }

    deinit {
        switch storage {
        case .guarded:
            sodium_free(pointer)
        case .scratch:
            sodium_memzero(pointer, count)
            pointer.deallocate()
        }
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
