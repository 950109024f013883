import Testing
@testable import VaultCLI
import VaultCore

/// The core names its inputs; the CLI prints its own flags in their place, so the messages read
/// as they always have.
@Suite struct CoreErrorTextTests {
    @Test(arguments: [
        (VaultError.invalidField([.maxUses], "max_uses must be a positive whole number"), "--max-uses must be a positive whole number"),
        (.invalidField([.rating], "rating must be from 1 to 5"), "--rating must be from 1 to 5"),
        (.invalidField([.giftFor, .notGift], "use either gift_for or not_gift, not both"), "use either --gift-for or --not-gift, not both"),
        (.invalidField([.scope], "a grant needs at least one scope; valid scopes: profile"), "a grant needs at least one --scope; valid scopes: profile"),
        (
            .invalidField([.defaultVendor], "line 3: no vendor (fill the vendor column or pass default_vendor)"),
            "line 3: no vendor (fill the vendor column or pass --vendor NAME)"
        ),
        (.invalidInput("the expiry is in the past"), "the expiry is in the past"),
        // Quoted file text keeps its words, even an option's name.
        (
            .invalidField([.dateFormat], "line 2: invalid date \"date_format\": not date_format's layout; pass date_format"),
            "line 2: invalid date \"date_format\": not --date-format's layout; pass --date-format"
        ),
        (.notEmpty, "import-all needs a vault with no records yet; create one with `vrm init --vault NEW`"),
    ])
    func fieldsReadAsFlags(_ error: VaultError, _ printed: String) {
        #expect(CoreErrorText.message(for: error) == printed)
    }

    @Test func theCoreMessageNamesTheFieldNotTheFlag() {
        let error = VaultError.invalidField([.maxUses], "max_uses must be a positive whole number")
        #expect(error.description == "max_uses must be a positive whole number")
    }

    @Test func importProblemListsNameTheirFlagsEveryTime() {
        let error = VaultError.invalidField(
            [.dateFormat, .createVendors], "2 problems:\n  a: pass date_format\n  b: pass date_format or create_vendors; the scope is fine")
        #expect(CoreErrorText.message(for: error) == "2 problems:\n  a: pass --date-format\n  b: pass --date-format or --create-vendors; the scope is fine")
    }

    @Test func importErrorsTellTheCLIUserAboutVendor() throws {
        #expect {
            try PurchaseImport.parse("item\nTent\n", format: .csv, defaultVendor: nil)
        } throws: { error in
            guard let error = error as? VaultError else { return false }
            return CoreErrorText.message(for: error).hasSuffix("; or pass --vendor NAME")
        }
    }
}
