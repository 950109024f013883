import Foundation
import VaultCrypto

/// Sealing of record payloads under the record keys, bound to their row (`VaultKeys.seal`):
/// JSON for most records, the binary encoding (`BinaryRecord`) for those read in bulk.
extension VaultKeys {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    func sealJSON<T: Encodable>(_ value: T, table: String, id: String, field: String = "record") throws -> [UInt8] {
        var plain = Array(try Self.encoder.encode(value))
        defer { Wipe.bytes(&plain) }
        return try seal(plain, table: table, id: id, field: field)
    }

    func openJSON<T: Decodable>(_ type: T.Type, _ box: [UInt8], table: String, id: String, field: String = "record") throws -> T {
        var plain = try open(box, table: table, id: id, field: field)
        defer { Wipe.bytes(&plain) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(plain))
        } catch {
            throw VaultError.corrupt("record \(table)/\(id) has an unreadable payload")
        }
    }

    /// Seals a record in the binary encoding.
    func sealRecord<T: BinaryRecord>(_ value: T, table: String, id: String, field: String = "record") throws -> [UInt8] {
        var plain = value.encodedRecord
        defer { Wipe.bytes(&plain) }
        return try seal(plain, table: table, id: id, field: field)
    }

    /// Opens a record sealed in either encoding (binary tag `0x01`, else JSON).
    func openRecord<T: BinaryRecord & Decodable>(_ type: T.Type, _ box: [UInt8], table: String, id: String, field: String = "record") throws -> T {
        var plain = try open(box, table: table, id: id, field: field)
        defer { Wipe.bytes(&plain) }
        do {
            return try Self.decodeRecord(T.self, plain)
        } catch {
            throw VaultError.corrupt("record \(table)/\(id) has an unreadable payload")
        }
    }

    static func decodeRecord<T: BinaryRecord & Decodable>(_ type: T.Type, _ plain: [UInt8]) throws -> T {
        if plain.first == binaryRecordTag {
            var reader = ByteReader(plain)
            return try T(from: &reader)
        }
        return try JSONDecoder().decode(T.self, from: Data(plain))
    }

    /// A purchase row opened and checked against its plaintext id and vendor (`SealedRow.checkOwner`).
    func openPurchase(_ row: SealedRow) throws -> Purchase {
        let purchase = try openRecord(Purchase.self, row.sealed, table: "purchases", id: row.id)
        try row.checkOwner(id: purchase.id, vendorID: purchase.vendorID, table: "purchases")
        return purchase
    }

    /// A case row opened and checked against its plaintext id and vendor (`SealedRow.checkOwner`).
    func openCase(_ row: SealedRow) throws -> SupportCase {
        let supportCase = try openJSON(SupportCase.self, row.sealed, table: "cases", id: row.id)
        try row.checkOwner(id: supportCase.id, vendorID: supportCase.vendorID, table: "cases")
        return supportCase
    }
}
