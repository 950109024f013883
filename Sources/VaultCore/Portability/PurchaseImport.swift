import Foundation

/// Reads purchases from CSV or JSON with the column mapping of `Specs/import.md`.
/// Any bad row rejects the whole file, with its line (CSV) or entry (JSON) number.
public enum PurchaseImport {
    public enum Format: String, Sendable, CaseIterable {
        case csv, json
    }

    /// Column names, in the documented order.
    public static let columns = ["vendor", "item", "date", "price", "currency", "order", "quantity", "gift_for"]
    static let required = ["item", "date"]

    /// One parsed row and where it came from ("line 4" or "entry 2").
    public struct Row: Sendable, Equatable {
        public var location: String
        public var purchase: NewPurchase
    }

    /// Parses a file's text; `defaultVendor` fills rows without a vendor.
    public static func parse(_ text: String, format: Format, defaultVendor: String?) throws -> [Row] {
        switch format {
        case .csv: try parseCSV(text, defaultVendor: defaultVendor)
        case .json: try parseJSON(text, defaultVendor: defaultVendor)
        }
    }

    static func parseCSV(_ text: String, defaultVendor: String?) throws -> [Row] {
        let records: [CSV.Record]
        do {
            records = try CSV.parse(text)
        } catch let error as CSV.ParseError {
            throw VaultError.invalidInput(error.description)
        }
        var needed = required
        if defaultVendor == nil { needed.insert("vendor", at: 0) }
        guard let header = records.first else {
            throw VaultError.invalidInput("the file is empty: expected a header line with \(needed.joined(separator: ", "))")
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for name in names where !columns.contains(name) {
            throw VaultError.invalidInput("line \(header.line): unknown column \"\(name.prefix(40))\"; columns are \(columns.joined(separator: ", "))")
        }
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw VaultError.invalidInput("line \(header.line): column \"\(repeated)\" appears twice")
        }
        for name in needed where !names.contains(name) {
            let message = "line \(header.line): missing column \"\(name)\" (the header has: \(names.joined(separator: ", ")))"
            guard name == "vendor" else { throw VaultError.invalidInput(message) }
            throw VaultError.invalidField([.defaultVendor], message + "; or pass default_vendor")
        }
        return try records.dropFirst().map { record in
            guard record.fields.count == names.count else {
                throw VaultError.invalidInput("line \(record.line): expected \(names.count) fields, found \(record.fields.count)")
            }
            var values: [String: String] = [:]
            for (name, value) in zip(names, record.fields) {
                let v = value.trimmingCharacters(in: .whitespaces)
                if !v.isEmpty { values[name] = v }
            }
            return try row(values, location: "line \(record.line)", defaultVendor: defaultVendor)
        }
    }

    static func parseJSON(_ text: String, defaultVendor: String?) throws -> [Row] {
        guard let array = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [Any] else {
            throw VaultError.invalidInput("the JSON file must be an array of objects with keys \(columns.joined(separator: ", "))")
        }
        return try array.enumerated().map { index, element in
            let location = "entry \(index + 1)"
            guard let object = element as? [String: Any] else { throw VaultError.invalidInput("\(location): not an object") }
            var values: [String: String] = [:]
            for (key, value) in object {
                guard columns.contains(key) else {
                    throw VaultError.invalidInput("\(location): unknown key \"\(key.prefix(40))\"; keys are \(columns.joined(separator: ", "))")
                }
                switch value {
                case let s as String:
                    let trimmed = s.trimmingCharacters(in: .whitespaces)
                    if !trimmed.isEmpty { values[key] = trimmed }
                case let n as NSNumber where key == "quantity" && String(cString: n.objCType) != "c" && n.doubleValue == n.doubleValue.rounded():
                    values[key] = String(n.int64Value)
                case is NSNull: break
                default:
                    throw VaultError.invalidInput(
                        "\(location): \(key) must be a string"
                            + (key == "quantity" ? " or a whole number" : key == "price" ? " (write prices as \"12.34\")" : ""))
                }
            }
            return try row(values, location: location, defaultVendor: defaultVendor)
        }
    }

    static func row(_ v: [String: String], location: String, defaultVendor: String?) throws -> Row {
        func fail(_ message: String) -> VaultError { .invalidInput("\(location): \(message)") }
        guard let vendor = v["vendor"] ?? defaultVendor else {
            throw VaultError.invalidField([.defaultVendor], "\(location): no vendor (fill the vendor column or pass default_vendor)")
        }
        guard let item = v["item"] else { throw fail("item is empty") }
        guard let dateText = v["date"] else { throw fail("date is empty") }
        guard let date = CalendarDate(dateText) else { throw fail("invalid date \"\(dateText.prefix(30))\": use YYYY-MM-DD") }
        var price: Money?
        switch (v["price"], v["currency"]) {
        case (nil, nil): price = nil
        case (let amount?, let currency?):
            do {
                price = try Money.parse(amount, currency: currency)
            } catch let error as VaultError {
                throw fail(error.description)
            }
        case (.some, nil): throw fail("a price needs a currency")
        case (nil, .some): throw fail("a currency needs a price")
        }
        var quantity = 1
        if let q = v["quantity"] {
            guard q.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(q), n >= 1 else {
                throw fail("invalid quantity \"\(q.prefix(20))\": use a whole number of at least 1")
            }
            quantity = n
        }
        let purchase = NewPurchase(
            vendorName: vendor, item: item, date: date, price: price, orderNumber: v["order"],
            quantity: quantity, giftFor: v["gift_for"])
        do {
            try PurchaseLedger.validate(purchase)
        } catch let error as VaultError {
            throw fail(error.description)
        }
        return Row(location: location, purchase: purchase)
    }
}

/// What an import did (or, for a dry run, would do).
public struct ImportSummary: Sendable, Equatable {
    public var added: Int
    public var duplicates: Int
    public var dryRun: Bool
}

extension Portability {
    /// Imports parsed rows: every row's vendor is checked first (naming the row), then all rows
    /// are added in one transaction. Rows already present (vendor + order + item) are skipped.
    public func importPurchases(_ rows: [PurchaseImport.Row], dryRun: Bool) throws -> ImportSummary {
        let vendors = VendorRegistry(context: context), purchases = PurchaseLedger(context: context)
        let duplicates = try context.read { transaction -> Int in
            var seen: Set<[UInt8]> = []
            var count = 0
            for row in rows {
                let vendor: Vendor
                do {
                    vendor = try vendors.vendor(named: row.purchase.vendorName, in: transaction)
                } catch VaultError.notFound {
                    throw VaultError.invalidInput("\(row.location): unknown vendor \"\(row.purchase.vendorName.prefix(60))\" (add it with `vrm vendor add`)")
                }
                guard let order = row.purchase.orderNumber else { continue }
                let index = purchases.dedupeIndex(vendorID: vendor.id, order: order, item: row.purchase.item)
                let exists = try purchases.exists(dedupeIndex: index, in: transaction)
                if exists || !seen.insert(index).inserted { count += 1 }
            }
            return count
        }
        if dryRun { return ImportSummary(added: rows.count - duplicates, duplicates: duplicates, dryRun: true) }
        let result = try purchases.add(rows.map(\.purchase))
        return ImportSummary(added: result.added.count, duplicates: result.skipped, dryRun: false)
    }
}
