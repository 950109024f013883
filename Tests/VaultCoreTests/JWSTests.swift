import Foundation
import Testing
import VaultCrypto
import VaultTestSupport

@testable import VaultCore

/// The signed share as a JWS: the header a stock JOSE library expects, the RFC 7638
/// thumbprint as kid, and nothing verifies that was changed.
@Suite struct JWSTests {
    /// RFC 8037 appendix A.3: the thumbprint of the appendix's Ed25519 public key.
    @Test func theKidIsTheRFC7638Thumbprint() {
        #expect(VaultJWK.thumbprint(x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    }

    /// RFC 8037 appendix A.4: the example JWS (then `alg` "EdDSA") verifies with its key.
    @Test func theRFC8037ExampleSignatureVerifies() throws {
        let x = try #require(Base64URL.decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))
        let input = Array("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc".utf8)
        let signature = try #require(
            Base64URL.decode("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"))
        #expect(Signature.verify(signature, message: input, publicKey: x))
    }

    @Test func aSignedShareNamesItsKeyAndVerifiesOnlyUnchanged() throws {
        let key = try SigningKeyPair.generate()
        let document = Array(#"{"format":"vrm-share-document/2"}"#.utf8)
        let share = try JSONDecoder().decode(SignedShare.self, from: Data(SignedShare.sign(document, with: key).jsonBytes))
        let header = try share.header()
        #expect(header.alg == "Ed25519")
        #expect(header.typ == "vrm-share+json")
        #expect(header.kid == VaultJWK(publicKey: key.publicKey).kid)
        #expect(header.jwk?.publicKey == key.publicKey)
        #expect(Base64URL.decode(share.payload) == document)
        var changed = share
        changed.payload = Base64URL.encode(Array("{}".utf8))
        #expect(throws: ShareFormatError.badSignature) { try changed.verified() }
        #expect(throws: ShareFormatError.unexpectedSigner) { try share.verified(expectedSigner: try SigningKeyPair.generate().publicKey) }
    }
}
