/// Errors of the crypto layer. They carry no key material, plaintext or token text.
public enum CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A ciphertext, nonce or associated data was altered, or the key is wrong.
    case authenticationFailed
    /// An input had the wrong length for the primitive (the name says which input).
    case invalidLength(String)
    /// Argon2id parameters outside the accepted bounds.
    case kdfParametersOutOfRange
    /// `sodium_malloc` or `crypto_pwhash` ran out of memory.
    case outOfMemory
    /// An encoded value (token, public key, base64) is malformed.
    case malformedEncoding(String)
    /// A signature did not verify.
    case badSignature

    public var description: String {
        switch self {
        case .authenticationFailed: "decryption failed: data was altered or the key is wrong"
        case .invalidLength(let what): "invalid length for \(what)"
        case .kdfParametersOutOfRange: "key-derivation parameters are out of the accepted range"
        case .outOfMemory: "out of memory for secure allocation"
        case .malformedEncoding(let what): "malformed \(what)"
        case .badSignature: "signature verification failed"
        }
    }
}
