import Testing
import VaultCrypto

@Suite struct AEADTests {
    let key: SecretKey
    init() throws { key = try SecretKey.random() }

    @Test func sealedTextOpensWithTheSameKeyAndAssociatedData() throws {
        let plain = Array("ship to 12 Quokka Lane".utf8)
        let box = try AEAD.seal(plain, key: key, associatedData: [1, 2, 3])
        #expect(box.count == plain.count + AEAD.nonceBytes + AEAD.tagBytes)
        #expect(try AEAD.open(box, key: key, associatedData: [1, 2, 3]) == plain)
    }

    /// Seeded property: random lengths, contents and associated data all round-trip exactly.
    @Test(arguments: [UInt64(1), 42, 0xC0FFEE])
    func randomMessagesRoundTrip(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<200 {
            let message = (0..<Int.random(in: 0...4096, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let ad = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let box = try AEAD.seal(message, key: key, associatedData: ad)
            #expect(try AEAD.open(box, key: key, associatedData: ad) == message)
        }
    }

    @Test func twoSealsOfTheSameTextDiffer() throws {
        let a = try AEAD.seal([7, 7, 7], key: key, associatedData: [])
        let b = try AEAD.seal([7, 7, 7], key: key, associatedData: [])
        #expect(a != b)
    }

    /// Every single-bit change to nonce, ciphertext or tag, and to the associated data, is rejected.
    @Test func anySingleBitFlipIsRejected() throws {
        var rng = SeededGenerator(seed: 0x5EED)
        let plain = (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let ad = Array("vrm/1 profile row-1 record".utf8)
        let box = try AEAD.seal(plain, key: key, associatedData: ad)
        for bit in 0..<(box.count * 8) {
            var bad = box
            bad[bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(throws: CryptoError.authenticationFailed) { try AEAD.open(bad, key: key, associatedData: ad) }
        }
        for bit in 0..<(ad.count * 8) {
            var badAD = ad
            badAD[bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(throws: CryptoError.authenticationFailed) { try AEAD.open(box, key: key, associatedData: badAD) }
        }
    }

    @Test func aWrongKeyOrTruncatedBoxIsRejected() throws {
        let box = try AEAD.seal([1, 2, 3], key: key, associatedData: [])
        #expect(throws: CryptoError.authenticationFailed) { try AEAD.open(box, key: try SecretKey.random(), associatedData: []) }
        #expect(throws: CryptoError.authenticationFailed) { try AEAD.open(Array(box.prefix(20)), key: key, associatedData: []) }
    }

    @Test func secretsOpenIntoSecureMemory() throws {
        let secret = try SecretKey.random()
        let box = try AEAD.seal(secret: secret, key: key, associatedData: [9])
        let opened = try AEAD.openSecret(box, key: key, associatedData: [9])
        #expect(opened.constantTimeEquals(secret))
        #expect("\(opened)" == "SecretKey(redacted)")
    }
}

/// SplitMix64, so property tests are repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
