import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import VaultCore
import VaultCrypto

/// The vendor side of redemption: fetch, open (for key-bound grants), verify the vault signature.
struct VendorClient {
    enum Result {
        case share(document: ShareDocument, signer: [UInt8], etag: String?, keyBound: Bool)
        case notModified(etag: String?)
        case refused(status: Int, problem: String, title: String, retryAfter: String?)
    }

    let baseURL: URL
    let keyPair: BoxKeyPair?
    let pinnedSigner: [UInt8]?

    /// `GET {base}/v1/share` with the token as a bearer credential. Without a pinned key, the
    /// JWK Set is fetched first: a 200 counts a use, which must not be spent on a share that
    /// could then not be verified.
    func fetch(token: String, ifNoneMatch: String? = nil) async throws -> Result {
        let keySet = pinnedSigner == nil ? try await fetchKeySet(token: token) : nil
        var request = URLRequest(url: baseURL.appendingPathComponent("v1/share"))
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("vrm-redeem/0.1", forHTTPHeaderField: "User-Agent")
        request.cachePolicy = .reloadIgnoringLocalCacheData
        if let ifNoneMatch { request.setValue(ifNoneMatch, forHTTPHeaderField: "If-None-Match") }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError(description: "cannot reach \(baseURL.absoluteString): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw CLIError(description: "no HTTP response from \(baseURL.absoluteString)") }
        let etag = http.value(forHTTPHeaderField: "ETag")
        switch http.statusCode {
        case 200:
            return try open(data, etag: etag, jwks: keySet)
        case 304:
            return .notModified(etag: etag)
        default:
            let problem = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            return .refused(
                status: http.statusCode, problem: (problem?["type"] as? String) ?? "",
                title: (problem?["title"] as? String) ?? HTTPURLResponse.localizedString(forStatusCode: http.statusCode),
                retryAfter: http.value(forHTTPHeaderField: "Retry-After"))
        }
    }

    /// `GET {base}/.well-known/jwks.json`: the vault's signing keys, when no key is pinned. They
    /// come from the same server as the share, so they show which key signed, not that it is
    /// the customer's: pinning (`--vault-key`) is what proves that.
    func fetchKeySet(token: String) async throws -> VaultJWKSet {
        var request = URLRequest(url: baseURL.appendingPathComponent(".well-known/jwks.json"))
        // A relay serves many vaults: the token names which one's keys (no use is counted).
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("vrm-redeem/0.1", forHTTPHeaderField: "User-Agent")
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError(description: "cannot reach \(baseURL.absoluteString): \(error.localizedDescription)")
        }
        guard (response as? HTTPURLResponse)?.statusCode == 200, let set = try? JSONDecoder().decode(VaultJWKSet.self, from: data) else {
            throw ShareFormatError.malformed("JWK Set at /.well-known/jwks.json")
        }
        return set
    }

    /// Opens (key-bound) and verifies a 200 answer: with the pinned key, else with the key of
    /// the JWK Set whose `kid` the share's header names.
    func open(_ data: Data, etag: String?, jwks: VaultJWKSet? = nil) throws -> Result {
        let decoder = JSONDecoder()
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        let format = object?["format"] as? String
        let signed: SignedShare
        let keyBound = format == SealedShare.format
        var envelope: SealedShare?
        if format == "vrm-signed-share/1" || format == "vrm-sealed-share/1" {
            throw ShareFormatError.malformed(
                "response (a format-1 share from a vault not yet moved to format 2: the customer's next `vrm` command moves it)")
        }
        if keyBound {
            guard let keyPair else {
                throw CLIError.usage("this grant is key-bound: pass --key FILE with the vendor secret key to open it")
            }
            let sealed = try decoder.decode(SealedShare.self, from: data)
            envelope = sealed
            signed = try sealed.open(with: keyPair)
        } else if object?["protected"] != nil, let jws = try? decoder.decode(SignedShare.self, from: data) {
            signed = jws
        } else {
            throw ShareFormatError.malformed("response (not a VRM share)")
        }
        var expected = pinnedSigner
        if expected == nil, let jwks {
            guard let kid = try signed.header().kid, let key = jwks.key(kid: kid) else {
                throw ShareFormatError.malformed("share (its kid is not in the vault's JWK Set)")
            }
            expected = key
        }
        let (document, signer) = try signed.verified(expectedSigner: expected)
        guard document.format == ShareDocument.format else {
            throw ShareFormatError.malformed("share document (format \(document.format.prefix(40)), expected \(ShareDocument.format))")
        }
        if let envelope, envelope.grantID != document.grantID || envelope.version != document.version {
            throw ShareFormatError.malformed("sealed share (its grant or version differs from the signed document)")
        }
        // A key-bound share names, under the vault's signature, the key it was sealed to.
        if keyBound, let keyPair, document.vendorKey != VendorKeyText.encodePublic(keyPair.publicKey) {
            throw ShareFormatError.malformed("sealed share (the signed document does not name your vendor key: made for another key)")
        }
        if !keyBound, document.vendorKey != nil {
            throw ShareFormatError.malformed("share (a bearer share that names a vendor key)")
        }
        if let expiresAt = document.expiresAt {
            guard let expiry = Timestamp.parse(expiresAt) else { throw ShareFormatError.malformed("share (its expires_at is not a date)") }
            if expiry <= Date() {
                throw ShareFormatError.malformed("share (its grant expired at \(expiresAt.prefix(40)); the vault should not have served it)")
            }
        }
        guard let etag else { throw ShareFormatError.malformed("response (a share without an ETag)") }
        guard etag == "\"v\(document.version)\"" else {
            throw ShareFormatError.malformed("response (the ETag differs from the document version)")
        }
        return .share(document: document, signer: signer, etag: etag, keyBound: keyBound)
    }
}

extension VendorClient {
    /// Asks for access with a request link (`Specs/requests.md` §2), as a vendor does; returns
    /// the request's id. The code's secret stays here: the endpoint gets `auth` and the proof.
    func ask(link: String, request: AccessRequestBody) async throws -> String {
        let query = link.split(separator: "?", maxSplits: 1).last.map(String.init) ?? ""
        let items = URLComponents(string: "x://x?" + query)?.queryItems ?? []
        guard let code = items.first(where: { $0.name == "code" })?.value.flatMap({ try? RequestCode.parse($0) }),
            let vaultKey = items.first(where: { $0.name == "key" })?.value.flatMap(Base64URL.decode)
        else { throw CLIError(description: "not a request link") }
        let sealed = try SealedBox.seal(Array(try JSONEncoder().encode(request)), to: vaultKey)
        var post = URLRequest(url: baseURL.appendingPathComponent("v1/requests"))
        post.httpMethod = "POST"
        post.setValue("application/json", forHTTPHeaderField: "Content-Type")
        post.httpBody = try JSONEncoder().encode(try RequestSubmission(code: code, sealed: sealed))
        let (data, response) = try await URLSession.shared.data(for: post)
        guard (response as? HTTPURLResponse)?.statusCode == 201, let outcome = try? JSONDecoder().decode(RequestOutcome.self, from: data) else {
            throw CLIError(description: "the endpoint did not take the request")
        }
        return outcome.id
    }

    /// The approved request's token, opened with this vendor's key.
    func collectToken(requestID: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: baseURL.appendingPathComponent("v1/requests/\(requestID)"))
        guard let keyPair, let outcome = try? JSONDecoder().decode(RequestOutcome.self, from: data), outcome.status == .approved,
            let sealed = outcome.tokenSealed.flatMap(Base64URL.decode)
        else { throw CLIError(description: "the request is not approved") }
        return String(decoding: try SealedBox.open(sealed, keyPair: keyPair), as: UTF8.self)
    }
}
