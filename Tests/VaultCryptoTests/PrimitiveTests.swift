import Testing
import VaultCrypto

@Suite struct PrimitiveTests {
    @Test func blake2bMatchesTheRFC7693Vector() {
        let digest = BLAKE2b.hash(Array("abc".utf8), outputLength: 64)
        #expect(
            Hex.encode(digest)
                == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }

    @Test func blake2bOfPartsEqualsBlake2bOfTheirConcatenation() {
        #expect(BLAKE2b.hash([[1, 2], [3]]) == BLAKE2b.hash([1, 2, 3]))
    }

    @Test func streamedBlake2bEqualsBlake2bOfTheConcatenation() {
        let streamed = BLAKE2b.hash { input in
            input.append(utf8: "vrm")
            input.append([1, 2, 3])
            input.append(bigEndian: UInt32(0x0102_0304))
            input.append(bigEndian: UInt64(0x0506_0708_090A_0B0C))
            input.append(utf8: "")
        }
        #expect(streamed == BLAKE2b.hash(Array("vrm".utf8) + [1, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))
    }

    @Test func nonceSequencesNeverRepeatAndDifferBetweenSequences() {
        func nonces(_ sequence: NonceSequence, _ count: Int) -> [[UInt8]] {
            (0..<count).map { _ in
                var nonce = [UInt8](repeating: 0, count: 24)
                nonce.withUnsafeMutableBufferPointer { sequence.next(into: $0) }
                return nonce
            }
        }
        let first = nonces(NonceSequence(), 1000)
        let second = nonces(NonceSequence(), 1000)
        #expect(Set(first + second).count == 2000)
        #expect(first[0][16...] == [0, 0, 0, 0, 0, 0, 0, 0][...] && first[1][16...] == [0, 0, 0, 0, 0, 0, 0, 1][...])
        #expect(first[0].prefix(16) != second[0].prefix(16))
    }

    @Test(arguments: [
        KDFParameters(opsLimit: 0, memLimit: 64 << 20),
        KDFParameters(opsLimit: 1_000_000, memLimit: 64 << 20),
        KDFParameters(opsLimit: 2, memLimit: 1024),
        KDFParameters(opsLimit: 2, memLimit: 1 << 40),
    ])
    func absurdKDFParametersAreRejectedBeforeHashing(_ parameters: KDFParameters) throws {
        let salt = [UInt8](repeating: 1, count: PasswordHash.saltBytes)
        #expect(throws: CryptoError.kdfParametersOutOfRange) {
            try PasswordHash.deriveKey(passphrase: try SecretKey.random(), salt: salt, parameters: parameters)
        }
    }

    @Test func passwordHashIsDeterministicForTheSameSaltAndParameters() throws {
        let salt = [UInt8](repeating: 3, count: PasswordHash.saltBytes)
        var pw = Array("pass".utf8)
        let passphrase = try SecretKey(wiping: &pw)
        #expect(pw == [0, 0, 0, 0])
        let a = try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, parameters: .minimumForTests)
        let b = try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, parameters: .minimumForTests)
        #expect(a.constantTimeEquals(b))
    }

    @Test func subkeysDifferByIdAndAreStable() throws {
        let master = try SecretKey.random()
        let one = try Subkeys.derive(from: master, id: 1)
        #expect(one.constantTimeEquals(try Subkeys.derive(from: master, id: 1)))
        #expect(!one.constantTimeEquals(try Subkeys.derive(from: master, id: 2)))
    }

    @Test func sealedBoxOpensOnlyForItsRecipient() throws {
        let vendor = try BoxKeyPair.generate()
        let box = try SealedBox.seal([1, 2, 3], to: vendor.publicKey)
        #expect(try SealedBox.open(box, keyPair: vendor) == [1, 2, 3])
        #expect(throws: CryptoError.authenticationFailed) { try SealedBox.open(box, keyPair: try BoxKeyPair.generate()) }
        let rebuilt = try BoxKeyPair(secretKey: vendor.secretKey)
        #expect(rebuilt.publicKey == vendor.publicKey)
    }

    @Test func precomputedBoxesAgreeInBothDirections() throws {
        let vault = try BoxKeyPair.generate()
        let writer = try BoxKeyPair.generate()
        let sealed = try PrecomputedBox(publicKey: vault.publicKey, secretKey: writer.secretKey).seal([4, 5, 6])
        #expect(try PrecomputedBox(publicKey: writer.publicKey, secretKey: vault.secretKey).open(sealed) == [4, 5, 6])
        var bad = sealed
        bad[bad.count - 1] ^= 1
        #expect(throws: CryptoError.authenticationFailed) { try PrecomputedBox(publicKey: writer.publicKey, secretKey: vault.secretKey).open(bad) }
        let counted = try PrecomputedBox(publicKey: vault.publicKey, secretKey: writer.secretKey).seal([7, 8], nonces: NonceSequence())
        #expect(try PrecomputedBox(publicKey: writer.publicKey, secretKey: vault.secretKey).open(counted) == [7, 8])
    }

    @Test func signaturesVerifyOnlyForTheExactMessageAndKey() throws {
        let key = try SigningKeyPair.generate()
        let sig = key.sign([1, 2, 3])
        #expect(Signature.verify(sig, message: [1, 2, 3], publicKey: key.publicKey))
        #expect(!Signature.verify(sig, message: [1, 2, 4], publicKey: key.publicKey))
        #expect(!Signature.verify(sig, message: [1, 2, 3], publicKey: try SigningKeyPair.generate().publicKey))
        #expect(try SigningKeyPair(secretKey: key.secretKey).publicKey == key.publicKey)
    }

    @Test func constantTimeEqualityComparesContentAndLength() {
        #expect(constantTimeEquals([1, 2], [1, 2]))
        #expect(!constantTimeEquals([1, 2], [1, 3]))
        #expect(!constantTimeEquals([1, 2], [1, 2, 3]))
    }

    @Test func randomIdentifiersAreBase32AndUnique() {
        let ids = Set((0..<100).map { _ in Random.identifier(prefix: "gr_") })
        #expect(ids.count == 100)
        #expect(ids.allSatisfy { $0.count == 19 && $0.hasPrefix("gr_") })
    }
}
