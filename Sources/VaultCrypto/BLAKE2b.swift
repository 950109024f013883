internal import CSodium

/// BLAKE2b (`crypto_generichash`), optionally keyed.
public enum BLAKE2b {
    /// Hashes the concatenation of `parts` to `outputLength` bytes (16...64).
    public static func hash(_ parts: [[UInt8]], key: SecretKey? = nil, outputLength: Int = 32) -> [UInt8] {
        Sodium.ensureReady()
        let raw = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        defer {
            sodium_memzero(raw, crypto_generichash_statebytes())
            raw.deallocate()
        }
        let state = OpaquePointer(raw)
        _ = crypto_generichash_init(state, key.map { UnsafePointer($0.bytes) }, key?.count ?? 0, outputLength)
        for part in parts {
            _ = crypto_generichash_update(state, part, UInt64(part.count))
        }
        var out = [UInt8](repeating: 0, count: outputLength)
        _ = crypto_generichash_final(state, &out, outputLength)
        return out
    }

    /// Hashes what `feed` appends, with the state on the stack: no allocation but the output.
    /// For hot paths (the audit chain hashes every entry this way).
    public static func hash(outputLength: Int = 32, _ feed: (inout Input) -> Void) -> [UInt8] {
        Sodium.ensureReady()
        let stateBytes = crypto_generichash_statebytes()
        return withUnsafeTemporaryAllocation(byteCount: stateBytes, alignment: 64) { raw -> [UInt8] in
            guard let base = raw.baseAddress else { preconditionFailure("no memory for the BLAKE2b state") }
            let state = OpaquePointer(base)
            defer { sodium_memzero(raw.baseAddress, stateBytes) }
            _ = crypto_generichash_init(state, nil, 0, outputLength)
            var input = Input(state: state)
            feed(&input)
            var out = [UInt8](repeating: 0, count: outputLength)
            _ = crypto_generichash_final(state, &out, outputLength)
            return out
        }
    }

    /// What `hash(outputLength:_:)` feeds: bytes, UTF-8 text and big-endian integers.
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
        var bytes = hash(parts, key: key, outputLength: 32)
        return try SecretKey(wiping: &bytes, storage: storage)
    }
}
