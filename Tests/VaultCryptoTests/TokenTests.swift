import Testing
import VaultCrypto

@Suite struct TokenTests {
    @Test func tokensRoundTripThroughTheirTextForm() throws {
        let token = try GrantToken.generate()
        let text = token.encoded()
        #expect(text.hasPrefix("vrm_"))
        #expect(text.count == GrantToken.encodedLength)
        let parsed = try GrantToken.parse(text)
        #expect(parsed.selector == token.selector)
        #expect(parsed.secret.constantTimeEquals(token.secret))
        #expect(parsed.matches(secretHash: token.secretHash))
    }

    static func corruptions() throws -> [(String, String)] {
        let good = try GrantToken.generate().encoded()
        var flipped = Array(good)
        flipped[10] = flipped[10] == "A" ? "B" : "A"
        var badSum = Array(good)
        badSum[badSum.count - 1] = badSum.last == "A" ? "B" : "A"
        return [
            ("empty", ""),
            ("garbage", "not a token at all"),
            ("wrong prefix", "vrx_" + good.dropFirst(4)),
            ("payload changed", String(flipped)),
            ("checksum changed", String(badSum)),
            ("too short", String(good.dropLast())),
            ("too long", good + "A"),
            ("10 KB", String(repeating: "A", count: 10_240)),
            ("non-alphabet", "vrm_" + String(repeating: "!", count: 70)),
        ]
    }

    @Test func malformedTokensAreRejected() throws {
        for (name, text) in try Self.corruptions() {
            #expect(throws: CryptoError.malformedEncoding("token"), "\(name)") { try GrantToken.parse(text) }
        }
    }

    @Test func theShareKeyDependsOnSecretAndGrant() throws {
        let token = try GrantToken.generate()
        let a = try token.shareKey(grantID: "gr_a")
        #expect(a.constantTimeEquals(try token.shareKey(grantID: "gr_a")))
        #expect(!a.constantTimeEquals(try token.shareKey(grantID: "gr_b")))
        #expect(!a.constantTimeEquals(try GrantToken.generate().shareKey(grantID: "gr_a")))
    }

    @Test func vendorPublicKeysRoundTripAndRejectAnythingElse() throws {
        let pair = try BoxKeyPair.generate()
        let text = VendorKeyText.encodePublic(pair.publicKey)
        #expect(text.hasPrefix("vrmpk1_"))
        #expect(try VendorKeyText.decodePublic(" \(text)\n") == pair.publicKey)
        for bad in [
            "", "vrmpk1_", text + "x", String(text.dropLast()), "vrmsk1_" + text.dropFirst(7), text.replacingOccurrences(of: "vrmpk1_", with: "vrmpk2_"),
        ] {
            #expect(throws: CryptoError.self) { try VendorKeyText.decodePublic(bad) }
        }
    }

    @Test func vendorSecretKeyFilesRoundTrip() throws {
        let pair = try BoxKeyPair.generate()
        let file = VendorKeyText.encodeSecret(pair)
        #expect(try VendorKeyText.decodeSecret(file).publicKey == pair.publicKey)
        var damaged = file
        damaged[9] ^= 1
        #expect(throws: CryptoError.self) { try VendorKeyText.decodeSecret(damaged) }
    }
}
