import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport

/// A vendor key nothing can be sealed to is refused when the vendor is added or edited, with a
/// clear message, instead of failing later when a grant is issued.
@Suite struct VendorKeyValidationTests {
    /// Low-order X25519 points: zero, one, and a point of order 8.
    static let lowOrder: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        [
            0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
            0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
        ],
    ]

    @Test(arguments: lowOrder)
    func aLowOrderKeyIsRefused(_ key: [UInt8]) throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        #expect {
            try vault.vendors.add(name: "Zero", publicKey: VendorKeyText.encodePublic(key))
        } throws: { error in
            guard case VaultError.invalidInput(let message) = error else { return false }
            return message.contains("low-order")
        }
        try vault.vendors.add(name: "Acme")
        #expect(throws: VaultError.self) { try vault.vendors.edit(named: "Acme", VendorEdit(publicKey: VendorKeyText.encodePublic(key))) }
        #expect(try vault.vendors.vendor(named: "Acme").publicKey == nil)
    }

    @Test func aGeneratedKeyIsAccepted() throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        let key = try BoxKeyPair.generate()
        try vault.vendors.add(name: "Bolt", publicKey: VendorKeyText.encodePublic(key.publicKey))
        _ = try vault.grants.create(GrantRequest(vendorName: "Bolt", scopes: [.profile], purpose: .delivery, expiresAt: nil))
    }
}
