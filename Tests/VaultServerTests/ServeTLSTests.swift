import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VaultCore
import VaultServer
import VaultTestSupport

/// `vrm serve --tls-cert --tls-key`: the endpoint speaks HTTPS itself, no proxy needed.
@Suite struct ServeTLSTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tls")
    static var certificate: String { fixtures.appendingPathComponent("test-cert.pem").path }
    static var key: String { fixtures.appendingPathComponent("test-key.pem").path }

    @Test func sharesAndTheKeySetAreServedOverTLS() async throws {
        let f = try Fixture()
        try await f.app(tls: (Self.certificate, Self.key)).test(.ahc(.https)) { client in
            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(f.bearer.token.encoded())) { response in
                #expect(response.status == .ok)
                let signed = try JSONDecoder().decode(SignedShare.self, from: Data(buffer: response.body))
                #expect(try signed.verified(expectedSigner: f.bearer.signerKey).document.grantID == f.bearer.grant.id)
            }
            try await client.execute(uri: "/.well-known/jwks.json", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func aMissingOrMalformedCertificateIsAClearError() throws {
        let f = try Fixture()
        #expect(throws: VaultError.invalidInput("cannot read a PEM certificate chain from /nonexistent.pem")) {
            _ = try f.app(tls: ("/nonexistent.pem", Self.key))
        }
        #expect(throws: VaultError.invalidInput("cannot read a PEM private key from \(Self.certificate)")) {
            _ = try f.app(tls: (Self.certificate, Self.certificate))
        }
        // A key of its own, not the certificate's.
        let dir = TemporaryDirectory()
        let other = dir.file("other-key.pem")
        try Data(
            """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrcSZc/zjhpIuWtTj
            XloxmbgEZPH9XIYwIxK19A0IbfGhRANCAAQrXsupiQ53dzOivT0t3OnASx5oMKcM
            1hDRd+vf1BBM0sz3bW9R9bSZ8YsjHlHg/vyElj0LCF3DCrtiCRYPY0g2
            -----END PRIVATE KEY-----

            """.utf8
        ).write(to: URL(fileURLWithPath: other))
        #expect(throws: VaultError.invalidInput("the private key in \(other) does not match the certificate in \(Self.certificate)")) {
            _ = try f.app(tls: (Self.certificate, other))
        }
    }
}
