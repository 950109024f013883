public import Foundation
import VaultCrypto

/// The full, round-trippable export (`vrm export --format json`): every record the customer
/// keeps. Grants and the share history are not included: they are bound to this vault's keys
/// and to tokens that were shown once. Format: `Specs/export.md`.
public struct VaultExport: Codable, Sendable, Equatable {
    /// The format written: snake_case keys, like every `--json` output.
    public static let format = "vrm-export/2"
    /// The first format, with camelCase keys; `import-all` still reads it.
    public static let formatV1 = "vrm-export/1"

    public var format: String
    public var profile: [String: String]
    public var vendors: [Vendor]
    public var purchases: [Purchase]
    public var cases: [SupportCase]

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        // Profile field names are lower-case by rule, so the conversion leaves them as they are.
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }

    /// The decoder for a document of `format` (`vrm-export/2` or `/1`).
    public static func decoder(format: String = VaultExport.format) -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        if format != formatV1 {
            d.keyDecodingStrategy = .custom { path in
                guard let last = path.last else { return AnyKey("") }
                return AnyKey(camelCase(last.stringValue))
            }
        }
        return d
    }

    /// `vendor_id` → `vendorID`, `minor_units` → `minorUnits`: the inverse of the encoder's
    /// conversion for the names the records use (`…ID` is the one acronym among them).
    static func camelCase(_ key: String) -> String {
        let words = key.split(separator: "_", omittingEmptySubsequences: false)
        guard words.count > 1 else { return key }
        var result = String(words[0])
        for word in words.dropFirst() {
            result += word == "id" ? "ID" : word.prefix(1).uppercased() + word.dropFirst()
        }
        return result
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) {
            stringValue = String(intValue)
            self.intValue = intValue
        }
    }

    /// Reads either format; the profile's field names are taken exactly as written.
    static func decode(_ data: Data) throws -> VaultExport {
        struct Head: Decodable { var format: String }
        struct Profile: Decodable { var profile: [String: String] }
        let head = try decoder(format: formatV1).decode(Head.self, from: data)
        guard head.format == format || head.format == formatV1 else {
            throw VaultError.invalidInput("unsupported export format \"\(head.format.prefix(40))\" (this build reads \(format) and \(formatV1))")
        }
        var all: VaultExport
        do {
            all = try decoder(format: head.format).decode(VaultExport.self, from: data)
        } catch {
            // The file's own key names in the message: snake_case in /2.
            throw VaultError.invalidInput("not a vrm export: \(Portability.decodingProblem(error, snakeCase: head.format != formatV1))")
        }
        all.profile = try decoder(format: formatV1).decode(Profile.self, from: data).profile
        return all
    }
}

/// The other export formats.
public enum ExportFormat: String, Sendable, CaseIterable {
    case json, jsonld, csv, vcard
}

/// Export and import of every record the customer keeps (`Specs/export.md`), and import of
/// purchases from CSV or JSON files (`PurchaseImport`).
public struct Portability: Sendable {
    let context: VaultContext

    /// Everything, in a stable order.
    public func exportAll() throws -> VaultExport {
        try context.read { transaction in
            VaultExport(
                format: VaultExport.format,
                profile: Dictionary(try ProfileBook(context: context).entries(in: transaction).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }),
                vendors: try VendorRegistry(context: context).all(in: transaction).sorted { $0.id < $1.id }.map { v in
                    var copy = v
                    copy.createdAt = Self.wholeSeconds(v.createdAt)
                    copy.updatedAt = Self.wholeSeconds(v.updatedAt)
                    return copy
                },
                purchases: try PurchaseLedger(context: context).purchases(vendorID: nil, in: transaction).map { p in
                    var copy = p
                    copy.createdAt = Self.wholeSeconds(p.createdAt)
                    return copy
                },
                cases: try CaseBook(context: context).cases(vendorID: nil, in: transaction).map { c in
                    var copy = c
                    copy.openedAt = Self.wholeSeconds(c.openedAt)
                    copy.resolvedAt = c.resolvedAt.map(Self.wholeSeconds)
                    copy.timeline = c.timeline.map {
                        var e = $0; e.at = Self.wholeSeconds($0.at); return e
                    }
                    return copy
                }.sorted { ($0.openedAt, $0.id) < ($1.openedAt, $1.id) })
        }
    }

    static func wholeSeconds(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }

    /// The export bytes in `format`.
    public func export(_ format: ExportFormat) throws -> Data {
        let all = try exportAll()
        switch format {
        case .json: return try VaultExport.encoder().encode(all)
        case .jsonld: return try ExportRenderers.jsonLD(all)
        case .csv: return Data(ExportRenderers.purchasesCSV(all).utf8)
        case .vcard: return Data(ExportRenderers.vCard(all.profile).utf8)
        }
    }

    /// Loads a JSON export into this vault, which must hold no records yet. Ids are kept, so a
    /// second export is identical to the first.
    public func importAll(_ data: Data) throws -> (profile: Int, vendors: Int, purchases: Int, cases: Int) {
        let all: VaultExport
        do {
            all = try VaultExport.decode(data)
        } catch let error as VaultError {
            throw error
        } catch {
            throw VaultError.invalidInput("not a vrm export: \(Self.decodingProblem(error))")
        }
        for (key, value) in all.profile {
            try ProfileKey.validate(key)
            guard value.utf8.count <= ProfileKey.maxValueBytes else { throw VaultError.invalidInput("profile value \(key) is too long") }
        }
        let vendorIDs = Set(all.vendors.map(\.id))
        for p in all.purchases where !vendorIDs.contains(p.vendorID) {
            throw VaultError.invalidInput("purchase \(p.id) names a vendor that is not in the file")
        }
        for c in all.cases where !vendorIDs.contains(c.vendorID) {
            throw VaultError.invalidInput("case \(c.id) names a vendor that is not in the file")
        }
        for v in all.vendors {
            _ = try v.publicKey.map(VendorRegistry.canonicalPublicKey)
            guard !v.name.trimmingCharacters(in: .whitespaces).isEmpty, v.name.count <= VendorRegistry.maxNameLength, !v.id.isEmpty else {
                throw VaultError.invalidInput("vendor \(v.id.prefix(40)) has an empty or overlong name or id")
            }
        }
        for p in all.purchases {
            do {
                try PurchaseLedger.validate(
                    NewPurchase(
                        vendorName: "-", item: p.item, date: p.date, price: p.price, orderNumber: p.orderNumber,
                        quantity: p.quantity, giftFor: p.giftFor))
                if let price = p.price { _ = try Money.parse(price.amount, currency: price.currency) }
                if let rating = p.annotations.rating, !(1...5).contains(rating) { throw VaultError.invalidInput("rating out of range") }
            } catch let error as VaultError {
                throw VaultError.invalidInput("purchase \(p.id.prefix(40)): \(error.description)")
            }
        }
        for c in all.cases where c.subject.trimmingCharacters(in: .whitespaces).isEmpty || c.subject.count > PurchaseLedger.maxTextLength {
            throw VaultError.invalidInput("case \(c.id.prefix(40)) has an empty or overlong subject")
        }
        for (kind, ids) in [("vendor", all.vendors.map(\.id)), ("purchase", all.purchases.map(\.id)), ("case", all.cases.map(\.id))]
        where Set(ids).count != ids.count {
            throw VaultError.invalidInput("the file repeats a \(kind) id")
        }
        let profile = ProfileBook(context: context), vendors = VendorRegistry(context: context)
        let purchases = PurchaseLedger(context: context), cases = CaseBook(context: context)
        try context.write { transaction in
            guard try transaction.recordCount() == 0 else {
                throw VaultError.notEmpty
            }
            for (key, value) in all.profile.sorted(by: { $0.key < $1.key }) {
                try profile.store(key, value: value, in: transaction)
            }
            for v in all.vendors {
                do {
                    try vendors.insert(v, in: transaction)
                } catch VaultError.conflict {
                    throw VaultError.invalidInput("the file has two vendors named \(v.name)")
                }
            }
            var dedupes: Set<[UInt8]> = []
            for p in all.purchases {
                let dedupe = p.orderNumber.map { purchases.dedupeIndex(vendorID: p.vendorID, order: $0, item: p.item) }
                if let dedupe, !dedupes.insert(dedupe).inserted {
                    throw VaultError.invalidInput("purchase \(p.id.prefix(40)) repeats the vendor, order number and item of another")
                }
                try purchases.insert(p, dedupe: dedupe, in: transaction)
            }
            for c in all.cases { try cases.insert(c, in: transaction) }
        }
        return (all.profile.count, all.vendors.count, all.purchases.count, all.cases.count)
    }

    static func decodingProblem(_ error: any Error, snakeCase: Bool = false) -> String {
        guard let error = error as? DecodingError else { return "unreadable JSON" }
        func name(_ key: String) -> String { snakeCase ? Self.snakeCase(key) : key }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(name(key.stringValue)) at \(path(context, name))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "bad value at \(path(context, name))"
        @unknown default: return "unreadable JSON"
        }
    }

    static func path(_ context: DecodingError.Context, _ name: (String) -> String = { $0 }) -> String {
        let p = context.codingPath.map { $0.intValue.map(String.init) ?? name($0.stringValue) }.joined(separator: ".")
        return p.isEmpty ? "the top level" : p
    }

    /// `vendorID` → `vendor_id`, `warrantyUntil` → `warranty_until` (as the export's encoder writes them).
    static func snakeCase(_ key: String) -> String {
        var result = ""
        var previousUpper = true
        for character in key {
            if character.isUppercase {
                if !previousUpper { result += "_" }
                result += character.lowercased()
                previousUpper = true
            } else {
                result.append(character)
                previousUpper = false
            }
        }
        return result
    }
}
