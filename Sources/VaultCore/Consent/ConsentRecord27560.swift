import Foundation
import VaultCrypto

/// A consent record in the shape of ISO/IEC TS 27560:2023 as the W3C DPV guide
/// "Implementing ISO/IEC TS 27560:2023 Consent Records and Receipts" serializes it: JSON-LD,
/// `dct:conformsTo` `https://w3id.org/dpv/schema/dpv-27560#record`, purposes, consent states,
/// legal basis and data categories as DPV IRIs. The mapping tables: `Specs/grants.md` §7.
public struct ConsentRecord27560: Encodable, Sendable {
    /// The record as ordered JSON-LD members.
    let members: JSONLD

    public func encode(to encoder: any Encoder) throws {
        try members.encode(to: encoder)
    }

    static let dpv = "https://w3id.org/dpv#"
    static let pd = "https://w3id.org/dpv/pd#"
    static let loc = "https://w3id.org/dpv/loc#"

    /// The DPV purpose for each of ours (`Specs/grants.md` §7).
    static func purposeIRI(_ purpose: Purpose) -> String {
        let term: String =
            switch purpose {
            case .serviceProvision: "RequestedServiceProvision"
            case .delivery: "DeliveryOfGoods"
            case .warranty: "CustomerClaimsManagement"
            case .support: "CustomerCare"
            case .personalisation: "ServicePersonalisation"
            case .marketing: "DirectMarketing"
            case .research: "ResearchAndDevelopment"
            case .legalCompliance: "LegalCompliance"
            }
        return dpv + term
    }

    /// The DPV personal-data categories a scope shares (`Specs/grants.md` §7).
    static func dataCategoryIRIs(_ scope: Scope) -> [String] {
        switch scope {
        case .profile: [pd + "IndividualProfile", pd + "Contact"]
        case .profileField(let key): [profileCategory(key)]
        case .profilePrefix(let prefix): [profileCategory(prefix + ".")]
        case .vendor, .vendorNotes: [pd + "Transactional"]
        case .purchasesOwn, .purchasesAll, .purchaseAnnotations: [pd + "Purchase"]
        case .casesOwn: [pd + "Communication"]
        }
    }

    private static func profileCategory(_ key: String) -> String {
        switch key {
        case "email": pd + "EmailAddress"
        case "name": pd + "Name"
        case "phone": pd + "TelephoneNumber"
        case _ where key.hasPrefix("address"): pd + "PhysicalAddress"
        default: pd + "IndividualProfile"
        }
    }

    /// The DPV consent state (a `dpv:` term) for a grant state.
    static func statusTerm(_ state: GrantState) -> String {
        switch state {
        case .active: "dpv:ConsentGiven"
        case .revoked: "dpv:ConsentWithdrawn"
        case .expired, .usedUp: "dpv:ConsentExpired"
        }
    }

    /// A jurisdiction as DPV's location IRI when it is an ISO 3166 alpha-2 code (or `EU`),
    /// else the text as given.
    static func jurisdiction(_ text: String) -> String {
        let code = text.trimmingCharacters(in: .whitespaces).uppercased()
        return code.count == 2 && code.allSatisfy { $0.isASCII && $0.isLetter } ? loc + code : text
    }
}

/// An ordered JSON object, array or scalar, for JSON-LD whose member names (`dpv:hasPurpose`)
/// are not Swift identifiers.
indirect enum JSONLD: Encodable, Sendable {
    case string(String)
    case int(Int)
    case array([JSONLD])
    case object([(String, JSONLD)])

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .string(let text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        case .int(let number):
            var container = encoder.singleValueContainer()
            try container.encode(number)
        case .array(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case .object(let members):
            var container = encoder.container(keyedBy: Key.self)
            for (name, value) in members { try container.encode(value, forKey: Key(stringValue: name)) }
        }
    }

    static func iri(_ iri: String) -> JSONLD { .object([("@id", .string(iri))]) }
}

extension ConsentEngine {
    /// The consent record (ISO/IEC TS 27560, DPV) for a grant, with its state now.
    public func consentRecord27560(grantID: String) throws -> ConsentRecord27560 {
        let receipt = try consentReceipt(grantID: grantID)
        let grant = try grant(id: grantID)
        let vendor: Vendor? = try context.read { transaction in try VendorRegistry(context: context).vendor(id: grant.vendorID, in: transaction) }
        let now = context.now
        let state = grant.state(at: now)
        let controllerID = "urn:vrm:vendor:\(grant.vendorID)"
        var entity: [(String, JSONLD)] = [
            ("@id", .string(controllerID)),
            ("@type", .array([.string("dpv:Organisation"), .string("dpv:DataController")])),
            ("dpv:hasName", .string(grant.vendorName ?? "(vendor removed)")),
        ]
        if let contact = vendor?.contact, contact.contains("@") { entity.append(("schema:email", .string(contact))) }
        if let site = vendor?.site { entity.append(("schema:url", .string(site))) }

        var given: [(String, JSONLD)] = [
            ("@type", .array([.string(ConsentRecord27560.statusTerm(.active))])),
            ("dpv:isIndicatedBy", .iri(ConsentRecord27560.dpv + "DataSubject")),
            ("dpv:isIndicatedAtTime", .string(Timestamp.string(grant.createdAt))),
            ("dpv:hasIndicationMethod", .string("vrm grant create (VRM Vault CLI)")),
        ]
        if let expiresAt = grant.expiresAt {
            let seconds = max(0, Int(expiresAt.timeIntervalSince(grant.createdAt).rounded()))
            given.append(("dpv:hasDuration", .object([("@type", .string("dpv:TemporalDuration")), ("rdf:value", .string("PT\(seconds)S"))])))
        }
        var events: [JSONLD] = [.object(given)]
        if state != .active {
            let at = grant.revokedAt ?? (state == .expired ? grant.expiresAt : nil) ?? now
            events.append(
                .object([
                    ("@type", .array([.string(ConsentRecord27560.statusTerm(state))])),
                    ("dpv:isIndicatedBy", .iri(ConsentRecord27560.dpv + (state == .revoked ? "DataSubject" : "DataController"))),
                    ("dpv:isIndicatedAtTime", .string(Timestamp.string(at))),
                ]))
        }

        var categories: [String] = []
        for scope in grant.scopes { for iri in ConsentRecord27560.dataCategoryIRIs(scope) where !categories.contains(iri) { categories.append(iri) } }
        let process: [(String, JSONLD)] = [
            ("@type", .string("dpv:Process")),
            ("dpv:hasPurpose", .array([.iri(ConsentRecord27560.purposeIRI(grant.purpose))])),
            ("dct:description", .string(grant.purpose.meaning)),
            ("dpv:hasPersonalData", .array(categories.map(JSONLD.iri))),
            // The kind of consent is the legal basis (the DPV guide's "event type").
            ("dpv:hasLegalBasis", .array([.iri(ConsentRecord27560.dpv + "Consent"), .iri(ConsentRecord27560.dpv + "ExplicitlyExpressedConsent")])),
            ("dpv:hasDataController", .array([.iri(controllerID)])),
            ("dpv:hasRecipient", .array([.iri(controllerID)])),
        ]
        var members: [(String, JSONLD)] = [
            (
                "@context",
                .object([
                    ("dpv", .string(ConsentRecord27560.dpv)), ("pd", .string(ConsentRecord27560.pd)), ("loc", .string(ConsentRecord27560.loc)),
                    ("dct", .string("http://purl.org/dc/terms/")), ("schema", .string("https://schema.org/")),
                    ("rdf", .string("http://www.w3.org/1999/02/22-rdf-syntax-ns#")), ("vrm", .string("urn:vrm:")),
                ])
            ),
            ("@id", .string("urn:uuid:\(receipt.consentReceiptID)")),
            ("@type", .string("dpv:ConsentRecord")),
            ("dct:conformsTo", .iri("https://w3id.org/dpv/schema/dpv-27560#record")),
            ("dct:identifier", .string(receipt.consentReceiptID)),
            ("dct:created", .string(Timestamp.string(grant.createdAt))),
            ("dct:modified", .string(Timestamp.string(now))),
            ("dpv:hasDataSubject", .object([("@type", .string("dpv:DataSubject")), ("dct:identifier", .string(receipt.piiPrincipalId))])),
            (
                "dpv:hasNotice",
                .object(
                    [("@type", .string("dpv:ConsentNotice")), ("dct:language", .string("en"))]
                        + (grant.terms.map { [("dct:identifier", JSONLD.string($0))] } ?? [])
                        // A grant that answered an access request: the request was the notice,
                        // with the agreement the vendor proffered in it.
                        + (grant.requestID.map { [("dct:source", JSONLD.string("vrm-request:\($0)"))] } ?? [])
                        + (grant.termsProffered?.id.map { [("dct:references", JSONLD.string($0))] } ?? [])
                        + (grant.termsProffered?.url.map { [("dct:relation", JSONLD.string($0))] } ?? []))
            ),
            ("dpv:hasDataController", .array([.iri(controllerID)])),
            ("dpv:hasEntity", .array([.object(entity)])),
            ("dpv:hasProcess", .array([.object(process)])),
            (
                "dpv:hasConsentControl",
                .object([
                    ("@type", .array([.string("dpv:WithdrawConsent")])),
                    ("dpv:isExercisedAt", .string("vrm grant revoke \(grant.id)")),
                ])
            ),
            ("dpv:hasConsentStatus", .array(events)),
            (
                "vrm:grant",
                .object(
                    [("vrm:id", .string(grant.id)), ("vrm:state", .string(state.rawValue)), ("vrm:useCount", .int(grant.useCount))]
                        + (grant.maxUses.map { [("vrm:maxUses", JSONLD.int($0))] } ?? []))
            ),
        ]
        if let jurisdiction = grant.jurisdiction {
            members.append(("dpv:hasJurisdiction", .array([.iri(ConsentRecord27560.jurisdiction(jurisdiction))])))
        }
        return ConsentRecord27560(members: .object(members))
    }
}
