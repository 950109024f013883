internal import CSodium

/// BLAKE2b (`crypto_generichash`), optionally keyed.
public enum BLAKE2b {
    /// Hashes the concatenation of `parts` to `outputLength` bytes (16...64).
    public static func hash(_ parts: [[UInt8]], key: SecretKey? = nil, outputLength: Int = 32) -> [UInt8] {
        hash(key: key, outputLength: outputLength) { input in
            for part in parts { input.append(part) }
        }
    }

    /// Hashes what `feed` appends, optionally keyed, with the state on the stack: no allocation
    /// but the output. For hot paths (tokens and the audit chain are hashed on every request).
    public static func hash(key: SecretKey? = nil, outputLength: Int = 32, _ feed: (inout Input) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: outputLength) { out, written in
            guard let target = out.baseAddress else { preconditionFailure("no memory for the BLAKE2b output") }
            hash(key: key, into: target, outputLength: outputLength, feed)
            written = outputLength
        }
    }

    /// The one place a BLAKE2b state lives: on the stack, zeroed when done.
    private static func hash(key: SecretKey?, into target: UnsafeMutablePointer<UInt8>, outputLength: Int, _ feed: (inout Input) -> Void) {
        Sodium.ensureReady()
        let stateBytes = crypto_generichash_statebytes()
        withUnsafeTemporaryAllocation(byteCount: stateBytes, alignment: 64) { raw in
            guard let base = raw.baseAddress else { preconditionFailure("no memory for the BLAKE2b state") }
            let state = OpaquePointer(base)
            defer { sodium_memzero(raw.baseAddress, stateBytes) }
            _ = crypto_generichash_init(state, key.map { UnsafePointer($0.bytes) }, key?.count ?? 0, outputLength)
            var input = Input(state: state)
            feed(&input)
            _ = crypto_generichash_final(state, target, outputLength)
        }
    }

    /// What `hash(key:outputLength:_:)` and `deriveSecret(key:storage:_:)` feed: bytes, UTF-8 text and big-endian integers.
    public struct Input {
        fileprivate let state: OpaquePointer

        public mutating func append(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress else { return }
            _ = crypto_generichash_update(state, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
        }

        public mutating func append(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { append($0) }
        }

        public mutating func append(utf8 text: String) {
            var text = text
            text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
        }

        public mutating func append(bigEndian value: UInt64) {
            withUnsafeBytes(of: value.bigEndian) { append($0) }
        }

        public mutating func append(bigEndian value: UInt32) {
            withUnsafeBytes(of: value.bigEndian) { append($0) }
        }
    }

    /// Hashes one byte string.
    public static func hash(_ data: [UInt8], key: SecretKey? = nil, outputLength: Int = 32) -> [UInt8] {
        hash([data], key: key, outputLength: outputLength)
    }

    /// Hashes into secure memory (for keys derived from a secret).
    public static func deriveSecret(_ parts: [[UInt8]], key: SecretKey, storage: SecretKey.Storage = .guarded) throws -> SecretKey {
        try deriveSecret(key: key, storage: storage) { input in
            for part in parts { input.append(part) }
        }
    }

    /// Keyed BLAKE2b-256 of what `feed` appends, written straight into secure memory.
    public static func deriveSecret(key: SecretKey, storage: SecretKey.Storage = .guarded, _ feed: (inout Input) -> Void) throws -> SecretKey {
        let derived = try SecretKey(zeroedCount: 32, storage: storage)
        hash(key: key, into: derived.bytes, outputLength: 32, feed)
        return derived
    }
}
