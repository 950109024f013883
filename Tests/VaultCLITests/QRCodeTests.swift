import Foundation
import Testing
@testable import VaultCLI
import VaultCrypto

/// Against an independent encoder: each matrix's BLAKE2b-256 (over its rows of 0 and 1, joined
/// with new lines) as Python's `qrcode` 8.x makes it for the same bytes, byte mode, level,
/// version and mask (its `get_matrix()`, border 0). The encoder was also compared with it bit
/// for bit on 320 cases (4 levels x 8 masks x 10 versions) and on 60 random texts with the mask
/// chosen by penalty, where it chose the same version.
@Suite struct QRCodeTests {
    static func rows(_ qr: QRCode) -> String {
        (0..<qr.size).map { y in String((0..<qr.size).map { qr[$0, y] ? "1" : "0" }) }.joined(separator: "\n")
    }

    @Test(arguments: [
        ("vrm", QRCode.Correction.medium, 3, 1, "ac64cb70d43f7fdb2fdae5e037f90285a5b329a59dbd07db432546644d24de83"),
        ("https://relay.example:8443/v1/requests", .low, 5, 5, "d5f6e2fee8c75e6d2e95789ec23f03c1c2ef6f8c6079dc13b52126f97b94625e"),
        (
            "vrm-request:https://relay.example:8443?code=vrmq_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG&vault=0123456789abcdef0123456789abcdef&key=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            .medium, 2, 9, "3323fabd616ef6bdc78c1eed3a0c47d9d3c47ad7decde0f5897b97085b01bee4"
        ),
        (String(repeating: "x", count: 300), .quartile, 6, 17, "9ec836f3843531e06a8996d28432c91eb518918a59e3f2a3532a1f3620a0ef93"),
        (String(repeating: "y", count: 1200), .high, 7, 40, "8c3444dba1ed1f5d60b169f0175e21a06485f4c2e0f4fcb26475125f6d74a3fa"),
    ])
    func matchesAnIndependentEncoder(_ text: String, _ level: QRCode.Correction, _ mask: Int, _ version: Int, _ digest: String) throws {
        let qr = try QRCode.encode(Array(text.utf8), correction: level, minVersion: version, mask: mask)
        #expect(qr.version == version && qr.size == version * 4 + 17 && qr.mask == mask)
        #expect(Hex.encode(BLAKE2b.hash(Array(Self.rows(qr).utf8))) == digest)
    }

    @Test func picksTheSmallestVersionAndRefusesTooMuch() throws {
        #expect(try QRCode.encode(Array("vrm".utf8)).version == 1)
        #expect(try QRCode.encode([UInt8](repeating: 0x41, count: 14), correction: .medium).version == 1)
        #expect(try QRCode.encode([UInt8](repeating: 0x41, count: 15), correction: .medium).version == 2)
        #expect(throws: QRCode.EncodeError.tooLong(bytes: 2332)) { try QRCode.encode([UInt8](repeating: 0, count: 2332), correction: .medium) }
        let text = try QRCode.encode(Array("vrm".utf8)).text(border: 2)
        #expect(text.split(separator: "\n").count == (21 + 4 + 1) / 2)
        #expect(text.split(separator: "\n").allSatisfy { $0.count == 25 })
    }
}
