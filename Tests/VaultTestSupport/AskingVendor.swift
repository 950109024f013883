public import Foundation
public import VaultCore
public import VaultCrypto

/// A vendor asking through a request link, as `Specs/requests.md` has it: built here from the
/// link's text only (code, vault key), with the project's crypto standing in for the vendor's
/// (`examples/vendor_client.py ask` does the same with PyNaCl).
public struct AskingVendor: Sendable {
    public let key: BoxKeyPair
    public let code: String
    public let vaultKey: [UInt8]
    public let endpoint: String

    public struct BadLink: Error {}

    public init(link: RequestLink) throws { try self.init(uri: link.uri) }

    /// From the link's text: `vrm-request:<endpoint>?code=…&vault=…&key=…`.
    public init(uri: String) throws {
        let parts = uri.split(separator: "?", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0].hasPrefix("vrm-request:"), let query = URLComponents(string: "x://x?" + parts[1])?.queryItems,
            let code = query.first(where: { $0.name == "code" })?.value,
            let vaultKey = query.first(where: { $0.name == "key" })?.value.flatMap(Base64URL.decode)
        else { throw BadLink() }
        key = try BoxKeyPair.generate()
        self.code = code
        self.vaultKey = vaultKey
        endpoint = String(parts[0].dropFirst("vrm-request:".count))
    }

    public func body(scopes: [String], purpose: String = "support", expiresIn: Int64 = 86_400, maxUses: Int? = 10, name: String = "Cobalt Shop")
        -> AccessRequestBody
    {
        AccessRequestBody(
            vendor: .init(name: name, site: "https://cobalt.example"), vendorKey: VendorKeyText.encodePublic(key.publicKey), scopes: scopes,
            purpose: purpose, expiresIn: expiresIn, maxUses: maxUses, terms: ProfferedTerms(id: "ieee7012:basic-1", url: nil),
            notifyURL: "http://127.0.0.1:9/hook")
    }

    /// The POST body: sealed to the vault key, with the transit MAC keyed by the code's `auth`
    /// and the proof keyed by its secret. `tamper` changes the sealed request after both were
    /// made (a change on the way); `forge` replaces the request with another and recomputes
    /// the MAC, as an endpoint that saw `auth` could — but not the proof, which it cannot.
    public func submission(_ body: AccessRequestBody, tamper: Bool = false, forge: AccessRequestBody? = nil) throws -> Data {
        let code = try RequestCode.parse(self.code)
        var sealed = try SealedBox.seal(Array(try JSONEncoder().encode(body)), to: vaultKey)
        var submission = try RequestSubmission(code: code, sealed: sealed)
        if tamper {
            sealed[sealed.count - 1] ^= 1
            submission.sealed = Base64URL.encode(sealed)
        }
        if let forge {
            let forged = try SealedBox.seal(Array(try JSONEncoder().encode(forge)), to: vaultKey)
            submission.sealed = Base64URL.encode(forged)
            submission.mac = Base64URL.encode(RequestAuth(selector: code.selector, auth: code.auth).mac(sealed: forged))
        }
        return try JSONEncoder().encode(submission)
    }
}
