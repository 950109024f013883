import Foundation
import Testing
import VaultCore
import VaultCrypto

/// Opens a bearer share the way a vendor would: from the server's answer, with libsodium only.
func vendorOpens(_ outcome: RedemptionOutcome, keyPair: BoxKeyPair? = nil) throws -> ShareDocument {
    guard case .share(let body, _, _) = outcome else {
        Issue.record("expected a share, got \(outcome)")
        throw VaultError.notFound(kind: "share", id: "")
    }
    let signed: SignedShare
    if let keyPair {
        signed = try JSONDecoder().decode(SealedShare.self, from: Data(body)).open(with: keyPair)
    } else {
        signed = try JSONDecoder().decode(SignedShare.self, from: Data(body))
    }
    return try signed.verified().document
}

func redeem(_ redeemer: Redeemer, _ token: GrantToken?, text: String? = nil, held: HeldVersions? = nil) throws -> RedemptionOutcome {
    let tokenText = text ?? token?.encoded()
    return try redeemer.redeem(RedemptionRequest(token: tokenText.map { $0[...] }, client: "127.0.0.1", userAgent: "test", held: held))
}
