import Foundation
import Testing
import VaultTestSupport

@testable import VaultCore

/// `vrm grant receipt --format iso27560`: an ISO/IEC TS 27560 consent record with DPV IRIs.
@Suite struct ConsentRecordTests {
    @Test func everyPurposeHasItsOwnDPVPurpose() {
        let iris = Purpose.allCases.map(ConsentRecord27560.purposeIRI)
        #expect(Set(iris).count == Purpose.allCases.count)
        #expect(iris.allSatisfy { $0.hasPrefix("https://w3id.org/dpv#") && $0.count > "https://w3id.org/dpv#".count })
        #expect(ConsentRecord27560.purposeIRI(.delivery) == "https://w3id.org/dpv#DeliveryOfGoods")
    }

    @Test func theRecordNamesPurposeStateAndDataAsDPVIRIs() throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme", contact: "privacy@acme.example")
        let issued = try vault.grants.create(
            GrantRequest(
                vendorName: "Acme", scopes: [.profileField("email"), .purchasesOwn], purpose: .delivery,
                expiresAt: Date().addingTimeInterval(3600), jurisdiction: "GB"))
        let json = try recordJSON(vault, issued.grant.id)
        let process = try #require((json["dpv:hasProcess"] as? [[String: Any]])?.first)
        #expect((process["dpv:hasPurpose"] as? [[String: String]])?.first?["@id"] == "https://w3id.org/dpv#DeliveryOfGoods")
        #expect(
            Set((process["dpv:hasPersonalData"] as? [[String: String]])?.compactMap { $0["@id"] } ?? [])
                == ["https://w3id.org/dpv/pd#EmailAddress", "https://w3id.org/dpv/pd#Purchase"])
        #expect((json["dct:conformsTo"] as? [String: String])?["@id"] == "https://w3id.org/dpv/schema/dpv-27560#record")
        #expect((json["dpv:hasJurisdiction"] as? [[String: String]])?.first?["@id"] == "https://w3id.org/dpv/loc#GB")
        #expect((json["dpv:hasDataSubject"] as? [String: Any])?["dct:identifier"] as? String == "jo@example.org")
        let given = try #require((json["dpv:hasConsentStatus"] as? [[String: Any]])?.first)
        #expect((given["@type"] as? [String]) == ["dpv:ConsentGiven"])
        #expect(
            (process["dpv:hasLegalBasis"] as? [[String: String]])?.compactMap { $0["@id"] }
                == ["https://w3id.org/dpv#Consent", "https://w3id.org/dpv#ExplicitlyExpressedConsent"])

        try vault.grants.revoke(id: issued.grant.id)
        let events = try #require(try recordJSON(vault, issued.grant.id)["dpv:hasConsentStatus"] as? [[String: Any]])
        #expect(events.count == 2)
        #expect((events.last?["@type"] as? [String]) == ["dpv:ConsentWithdrawn"])
    }

    func recordJSON(_ vault: Vault, _ id: String) throws -> [String: Any] {
        let encoder = JSONEncoder()
        let data = try encoder.encode(try vault.grants.consentRecord27560(grantID: id))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
