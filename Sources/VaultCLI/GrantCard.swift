import ArgumentParser
import Foundation
import VaultCore
import VaultCrypto

/// Everything a vendor needs to redeem a grant, in one block (`vrm grant create`, `vrm grant
/// card`): where to ask, with what, for which grant of which vault, and how to check the
/// answer. The token is on the card only when the grant is created: it is never stored.
struct GrantCard: Encodable {
    var grantID: String
    var vaultID: String
    var vendor: String?
    var binding: String
    /// Key-bound grants: the vendor key (`vrmpk1_…`) the share is sealed to.
    var vendorKey: String?
    var token: String?
    /// The base URL `vrm serve` answers on (what `vrm redeem --url` takes), when the customer
    /// gave `--endpoint` or `VRM_ENDPOINT`; `shareURL` is its `/v1/share`.
    var endpoint: String?
    var shareURL: String?
    var jwksURL: String?
    /// The vault's share-signing key: its `kid` (RFC 7638 thumbprint) and the raw key in
    /// standard base64, for `vrm redeem --vault-key` (pinning).
    var signingKeyID: String
    var signingKey: String
    var scopes: [String]
    var purpose: String
    var expiresAt: String?
    var maxUses: Int?

    /// `id` as in every other `--json` output that names a record (the grant), beside the
    /// card's own `grant_id`.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(grantID, forKey: .id)
        try c.encode(grantID, forKey: .grantID)
        try c.encode(vaultID, forKey: .vaultID)
        try c.encodeIfPresent(vendor, forKey: .vendor)
        try c.encode(binding, forKey: .binding)
        try c.encodeIfPresent(vendorKey, forKey: .vendorKey)
        try c.encodeIfPresent(token, forKey: .token)
        try c.encodeIfPresent(endpoint, forKey: .endpoint)
        try c.encodeIfPresent(shareURL, forKey: .shareURL)
        try c.encodeIfPresent(jwksURL, forKey: .jwksURL)
        try c.encode(signingKeyID, forKey: .signingKeyID)
        try c.encode(signingKey, forKey: .signingKey)
        try c.encode(scopes, forKey: .scopes)
        try c.encode(purpose, forKey: .purpose)
        try c.encodeIfPresent(expiresAt, forKey: .expiresAt)
        try c.encodeIfPresent(maxUses, forKey: .maxUses)
    }

    enum CodingKeys: String, CodingKey {
        case binding, vendor, token, endpoint, scopes, purpose, id
        case grantID = "grant_id", vaultID = "vault_id", vendorKey = "vendor_key", jwksURL = "jwks_url", shareURL = "share_url"
        case signingKeyID = "signing_key_id", signingKey = "signing_key", expiresAt = "expires_at", maxUses = "max_uses"
    }

    init(grant: Grant, vault: Vault, token: String?, endpoint: URL?) {
        let jwk = VaultJWK(publicKey: vault.keys.signing.publicKey)
        grantID = grant.id
        vaultID = Hex.encode(vault.keys.vaultID)
        vendor = grant.vendorName
        binding = grant.binding.rawValue
        vendorKey = grant.vendorKey
        self.token = token
        self.endpoint = endpoint?.absoluteString
        shareURL = endpoint?.appendingPathComponent("v1/share").absoluteString
        jwksURL = endpoint?.appendingPathComponent(".well-known/jwks.json").absoluteString
        signingKeyID = jwk.kid ?? jwk.thumbprint
        signingKey = Data(vault.keys.signing.publicKey).base64EncodedString()
        scopes = grant.scopes.map(\.description)
        purpose = grant.purpose.rawValue
        expiresAt = grant.expiresAt.map(Timestamp.string)
        maxUses = grant.maxUses
    }

    /// The card as text, for the customer to pass on.
    var text: String {
        var lines = ["Grant card for \(vendor ?? "(removed vendor)") — everything the vendor needs:"]
        if let endpoint, let shareURL {
            lines.append("  endpoint:    \(endpoint) (GET \(shareURL); vrm redeem --url \(endpoint))")
        } else {
            lines.append("  endpoint:    not given (pass --endpoint URL or set VRM_ENDPOINT to the URL vrm serve answers on)")
        }
        lines.append("  grant id:    \(grantID)")
        lines.append("  vault id:    \(vaultID)")
        if binding == GrantBinding.key.rawValue {
            lines.append("  binding:     key-bound: the share is sealed to \(vendorKey ?? "the vendor's key"); only its secret key opens it")
        } else {
            lines.append("  binding:     bearer: the token alone fetches the share")
        }
        lines.append("  signing key: kid \(signingKeyID); pin with --vault-key \(signingKey)")
        if let jwksURL { lines.append("  JWK Set:     \(jwksURL) (shows the key; pinning proves it is this vault's)") }
        lines.append("  scopes:      \(scopes.joined(separator: ", "))")
        lines.append("  purpose:     \(purpose)")
        lines.append("  expires:     \(expiresAt ?? "never")\(maxUses.map { "; at most \($0) fetches" } ?? "")")
        if let token {
            lines.append("  token:       \(token)")
            lines.append("The token is shown only now: give the card to the vendor over a private channel.")
        } else {
            lines.append("  token:       not stored; it was shown once, when the grant was created")
        }
        return lines.joined(separator: "\n")
    }

    /// `--endpoint`, else `VRM_ENDPOINT`: an http(s) URL with a host, or nil.
    /// A linked vault's grants are served by its relay: the card names it when no endpoint is given.
    static func relayEndpoint(of vault: Vault) throws -> URL? {
        try vault.relay.state().flatMap { URL(string: $0.url) }
    }

    static func endpoint(_ option: String?) throws -> URL? {
        let environment = ProcessInfo.processInfo.environment["VRM_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = option ?? environment else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil,
            url.query == nil, url.fragment == nil
        else {
            throw CLIError.usage("--endpoint (or VRM_ENDPOINT) must be the http(s) base URL vrm serve answers on, such as https://vault.example")
        }
        return url
    }
}

extension GrantCommand {
    struct Card: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what a vendor needs to redeem a grant (endpoint, ids, keys; not the token).",
            discussion: """
                The token is never stored: it is on the card `vrm grant create` prints, and only there.

                Examples:
                  vrm grant card gr_abcdefghijklmnop --endpoint https://vault.example
                  VRM_ENDPOINT=https://vault.example vrm grant card gr_abcdefghijklmnop --json
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The grant id.") var id: String
        @Option(help: "The base URL vrm serve answers on (else $VRM_ENDPOINT).") var endpoint: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let url = try GrantCard.endpoint(endpoint)
            let vault = try unlock.unlock(location)
            let card = GrantCard(grant: try vault.grants.grant(id: id), vault: vault, token: nil, endpoint: try url ?? GrantCard.relayEndpoint(of: vault))
            print(output.json ? try Terminal.json(card) : card.text)
        }
    }
}
