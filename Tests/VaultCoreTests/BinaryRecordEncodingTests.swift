import Foundation
import Testing
@testable import VaultCore

@Suite struct BinaryRecordEncodingTests {
    static func purchase(_ i: Int) -> Purchase {
        Purchase(
            id: "p_\(i)", vendorID: "v\(i % 7)", item: i % 3 == 0 ? "Ünïcödé item, \"quoted\" \(i)" : "Item \(i)",
            date: CalendarDate(String(format: "%04d-%02d-%02d", 2000 + i % 30, 1 + i % 12, 1 + i % 28)) ?? CalendarDate(Date()),
            price: i % 4 == 0 ? nil : Money(minorUnits: Int64(i * 137), currency: ["EUR", "JPY", "KWD"][i % 3]),
            orderNumber: i % 2 == 0 ? "O-\(i)" : nil, quantity: 1 + i % 9, giftFor: i % 5 == 0 ? "Sam" : nil,
            annotations: PurchaseAnnotations(
                rating: i % 6 == 0 ? nil : 1 + i % 5, returned: i % 2 == 1,
                warrantyUntil: i % 3 == 0 ? CalendarDate("2030-01-31") : nil,
                notes: i % 4 == 1 ? "note \(i)" : nil, tags: Array(["a", "b", "c"].prefix(i % 4))),
            createdAt: Date(timeIntervalSince1970: Double(1_700_000_000_000 + i) / 1000))
    }

    @Test func purchasesRoundTripThroughTheBinaryEncoding() throws {
        for i in 0..<200 {
            let p = Self.purchase(i)
            #expect(try VaultKeys.decodeRecord(Purchase.self, p.encodedRecord) == p)
        }
    }

    @Test func jsonRecordsWrittenBeforeTheBinaryEncodingStillRead() throws {
        let p = Self.purchase(3)
        #expect(try VaultKeys.decodeRecord(Purchase.self, Array(try JSONEncoder().encode(p))).item == p.item)
        let body = AuditBody(grantID: "gr_x", client: "127.0.0.1", reason: "revoked")
        #expect(try VaultKeys.decodeRecord(AuditBody.self, Array(try JSONEncoder().encode(body))) == body)
        #expect(try VaultKeys.decodeRecord(AuditBody.self, body.encodedRecord) == body)
    }

    @Test func truncatedOrPaddedBinaryRecordsAreRejected() {
        let bytes = Self.purchase(4).encodedRecord
        for cut in [1, 2, bytes.count / 2, bytes.count - 1] {
            #expect(throws: (any Error).self) { try VaultKeys.decodeRecord(Purchase.self, Array(bytes.prefix(cut))) }
        }
        #expect(throws: (any Error).self) { try VaultKeys.decodeRecord(Purchase.self, bytes + [0]) }
    }

    /// Text fields must be valid UTF-8 as stored: a record whose text does not decode exactly is
    /// rejected, never read with replacement characters.
    @Test func textThatIsNotUTF8IsRejected() throws {
        var p = Self.purchase(1)
        p.item = "abc"
        let bytes = p.encodedRecord
        let at = try #require((0...(bytes.count - 3)).first { Array(bytes[$0..<($0 + 3)]) == Array("abc".utf8) })
        for bad: [UInt8] in [[0xFF, 0x62, 0x63], [0x61, 0xC3, 0x63], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBD]] {
            var broken = bytes
            broken.replaceSubrange(at..<(at + 3), with: bad)
            if bad == [0xEF, 0xBF, 0xBD] {
                // A real U+FFFD in the text is valid UTF-8 and reads back as stored.
                #expect(try VaultKeys.decodeRecord(Purchase.self, broken).item == "\u{FFFD}")
            } else {
                #expect(throws: (any Error).self) { try VaultKeys.decodeRecord(Purchase.self, broken) }
            }
        }
        p.item = ""
        #expect(try VaultKeys.decodeRecord(Purchase.self, p.encodedRecord).item == "")
    }
}
