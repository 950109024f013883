import Foundation
import VaultCrypto

/// A consent receipt in the Kantara Consent Receipt 1.1 shape. Field by field: `Specs/grants.md`.
public struct ConsentReceipt: Encodable, Sendable {
    public struct Controller: Encodable, Sendable {
        var piiController: String
        var contact: String
        var address: String
        var email: String
        var phone: String
        var piiControllerUrl: String?
    }

    public struct Purpose: Encodable, Sendable {
        var purpose: String
        var purposeCategory: [String]
        var consentType: String
        var piiCategory: [String]
        var primaryPurpose: Bool
        var termination: String
        var thirdPartyDisclosure: Bool
    }

    public struct Service: Encodable, Sendable {
        var service: String
        var purposes: [Purpose]
    }

    var version = "KI-CR-v1.1.0"
    var jurisdiction: String
    var consentTimestamp: Int64
    var collectionMethod: String
    var consentReceiptID: String
    var publicKey: String
    var language = "en"
    var piiPrincipalId: String
    var piiControllers: [Controller]
    var policyUrl: String
    var services: [Service]
    var sensitive: Bool
    var spiCat: [String]
    /// Not in the Kantara schema: the grant this receipt is for, and its state now.
    var vrmGrant: VRMExtension

    struct VRMExtension: Encodable, Sendable {
        var grantID: String
        var state: String
        var expiresAt: String?
        var revokedAt: String?
        var maxUses: Int?
        var useCount: Int
        /// The access request the grant answered (`Specs/requests.md` §3), and the terms the
        /// vendor proffered in it (IEEE 7012).
        var requestID: String?
        var termsProffered: ProfferedTerms?

        enum CodingKeys: String, CodingKey {
            case state
            case grantID = "grant_id", expiresAt = "expires_at", revokedAt = "revoked_at", maxUses = "max_uses", useCount = "use_count"
            case requestID = "request_id", termsProffered = "terms_proffered"
        }
    }
}

extension ConsentEngine {
    /// The consent receipt for a grant.
    public func consentReceipt(grantID: String) throws -> ConsentReceipt {
        let grant = try grant(id: grantID)
        let vendor: Vendor? = try context.read { transaction in try VendorRegistry(context: context).vendor(id: grant.vendorID, in: transaction) }
        let profile = ProfileBook(context: context)
        let principal = try profile.value("email") ?? (try profile.value("name")) ?? "vault:\(context.keys.vaultID.hexString)"
        let now = context.now
        let termination: String = {
            if let revokedAt = grant.revokedAt { return "Revoked by the principal at \(Timestamp.string(revokedAt))." }
            let expiry = grant.expiresAt.map { "Expires at \(Timestamp.string($0))" } ?? "Does not expire"
            return expiry + "; the principal can revoke it at any time with `vrm grant revoke \(grant.id)`."
        }()
        let digest = BLAKE2b.hash([Array("vrm-receipt-v1".utf8), Array(grant.id.utf8)], outputLength: 16)
        let controller = ConsentReceipt.Controller(
            piiController: grant.vendorName ?? "(vendor removed)", contact: vendor?.contact ?? "",
            address: "", email: vendor?.contact.flatMap { $0.contains("@") ? $0 : nil } ?? "", phone: "",
            piiControllerUrl: vendor?.site)
        let purpose = ConsentReceipt.Purpose(
            purpose: grant.purpose.meaning.prefix(1).uppercased() + grant.purpose.meaning.dropFirst(),
            purposeCategory: [grant.purpose.rawValue], consentType: "EXPLICIT",
            piiCategory: grant.scopes.map(\.dataCategory), primaryPurpose: true, termination: termination,
            thirdPartyDisclosure: false)
        return ConsentReceipt(
            jurisdiction: grant.jurisdiction ?? "", consentTimestamp: Int64(grant.createdAt.timeIntervalSince1970),
            collectionMethod: grant.requestID == nil
                ? "Issued by the principal with the VRM Vault CLI (vrm grant create)"
                : "Requested by the vendor (access request \(grant.requestID ?? "")) and approved by the principal with the VRM Vault CLI (vrm request approve)",
            consentReceiptID: Self.uuidString(digest), publicKey: Data(context.keys.signing.publicKey).base64EncodedString(),
            piiPrincipalId: principal, piiControllers: [controller], policyUrl: grant.terms ?? grant.termsProffered?.url ?? "",
            services: [ConsentReceipt.Service(service: "Data share grant \(grant.id)", purposes: [purpose])],
            sensitive: false, spiCat: [],
            vrmGrant: .init(
                grantID: grant.id, state: grant.state(at: now).rawValue, expiresAt: grant.expiresAt.map(Timestamp.string),
                revokedAt: grant.revokedAt.map(Timestamp.string), maxUses: grant.maxUses, useCount: grant.useCount,
                requestID: grant.requestID, termsProffered: grant.termsProffered))
    }

    static func uuidString(_ bytes: [UInt8]) -> String {
        var b = bytes
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        let hex = Hex.encode(b)
        let chars = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(chars[$0]) }.joined(separator: "-")
    }
}
