import Testing
import VaultCore

@Suite struct ScopeParsingTests {
    @Test(arguments: ["profile", "profile.email", "profile.address.*", "profile.address.shipping", "vendor", "vendor.notes"])
    func validScopesRoundTrip(_ text: String) throws {
        #expect(try Scope.parse(text).description == text)
    }

    @Test(arguments: ["", "profiles", "profile.", "profile.*", "profile.Email", "purchases:everything", "vendor.secrets", "profile..x", "profile.a b"])
    func unknownScopesAreAnErrorListingTheValidOnes(_ text: String) {
        #expect {
            try Scope.parse(text)
        } throws: { error in
            "\(error)".contains("valid scopes: profile, profile.KEY, profile.PREFIX.*, vendor, vendor.notes")
        }
    }

    @Test func unknownPurposesListTheVocabulary() throws {
        #expect { try Purpose.parse("spying") } throws: { "\($0)".contains("service-provision, delivery, warranty, support") }
        #expect(try Purpose.parse("legal-compliance") == .legalCompliance)
    }
}
