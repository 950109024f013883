/// Amazon's "Your Orders" data export: `Retail.OrderHistory.1.csv` (one row per item of a
/// shipment), or the same rows as a JSON array of objects (`Specs/import.md` §7.1). Only the
/// columns below are read; any others are ignored.
struct AmazonOrderHistory {
    /// `--vendor`: when given, the vendor of every row (`RowChecker` fills it in).
    let defaultVendor: String?

    /// Values Amazon writes for "nothing here".
    static let placeholders: Set<String> = ["not available", "not applicable", "n/a"]
    static let required = ["Order ID", "Order Date"]

    /// One row's cells by lower-cased column name, as written and as the file names them.
    struct Cells {
        var values: [String: DraftField] = [:]

        /// The cell of `column`, nil when absent, empty or an Amazon placeholder.
        subscript(column: String) -> DraftField? {
            guard let field = values[column.lowercased()] else { return nil }
            let text = field.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty, !AmazonOrderHistory.placeholders.contains(text.lowercased()) else { return nil }
            return DraftField(text: text, label: field.label)
        }

        func label(_ column: String) -> String? { values[column.lowercased()]?.label }
    }

    func readCSV(_ text: String) throws -> SourceRead {
        let records: [CSV.Record]
        do {
            records = try CSV.parse(text)
        } catch let error as CSV.ParseError {
            throw VaultError.invalidInput(error.description)
        }
        guard let header = records.first else { throw VaultError.invalidInput("the file is empty: expected an Amazon order history with a header line") }
        let written = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let names = Set(written.map { $0.lowercased() })
        var missing = Self.required.filter { !names.contains($0.lowercased()) }
        if !names.contains("product name"), !names.contains("asin") { missing.append("Product Name") }
        if !missing.isEmpty {
            throw VaultError.invalidInput(
                "line \(header.line): missing column\(missing.count == 1 ? "" : "s") \(missing.map { "\"\($0)\"" }.joined(separator: ", ")): "
                    + "not an Amazon order history (the header has: \(ImportProblem.shown(written.joined(separator: ", "), 300)))")
        }
        var read = SourceRead()
        for (ordinal, record) in records.dropFirst().enumerated() {
            let location = "line \(record.line)"
            guard read.fieldsMatch(record, header: written.count, ordinal: ordinal) else { continue }
            var cells = Cells()
            for (name, value) in zip(written, record.fields) where cells.values[name.lowercased()] == nil {
                cells.values[name.lowercased()] = DraftField(text: value, label: "column \"\(ImportProblem.shown(name, 40))\"")
            }
            add(cells, location: location, ordinal: ordinal, to: &read)
        }
        return read
    }

    func readJSON(_ text: String) throws -> SourceRead {
        let shape = "an Amazon order history in JSON must be an array of objects with the export's column names as keys (or an object holding such an array)"
        let value: JSONValue
        do {
            value = try JSONText.parse(text)
        } catch let error as JSONSyntaxError {
            throw VaultError.invalidInput("\(shape) (\(error))")
        }
        let elements: [JSONValue]
        if let array = value.elements {
            elements = array
        } else if let inner = value.members?.first(where: { $0.value.elements != nil })?.value.elements {
            elements = inner
        } else {
            throw VaultError.invalidInput(shape)
        }
        var read = SourceRead()
        for (ordinal, element) in elements.enumerated() {
            let location = "entry \(ordinal + 1)"
            guard let members = element.members else {
                read.problems.append(ImportProblem(location: location, field: nil, message: "not an object", ordinal: ordinal))
                continue
            }
            var cells = Cells()
            var bad = false
            for member in members {
                let label = "key \"\(ImportProblem.shown(member.key, 40))\""
                let name = member.key.trimmingCharacters(in: .whitespaces).lowercased()
                switch member.value {
                case .null: continue
                case .string, .number:
                    guard let text = member.value.scalarText else {
                        read.problems.append(ImportProblem(location: location, field: label, message: "a malformed number", ordinal: ordinal))
                        bad = true
                        continue
                    }
                    if cells.values[name] == nil { cells.values[name] = DraftField(text: text, label: label) }
                default:
                    guard Self.columnsRead.contains(name) else { continue }
                    read.problems.append(
                        ImportProblem(location: location, field: label, message: "must be a string or a number, not \(member.value.kind)", ordinal: ordinal))
                    bad = true
                }
            }
            if !bad { add(cells, location: location, ordinal: ordinal, to: &read) }
        }
        return read
    }

    /// The columns this preset reads (lower-cased).
    static let columnsRead: Set<String> = [
        "website", "order id", "order date", "currency", "unit price", "quantity", "total owed", "product name", "asin", "order status",
        "gift message", "gift sender name", "gift recipient contact details",
    ]

    /// One row: a cancelled order's line is counted and left out; otherwise the purchase is
    /// the product (or its ASIN), the order date, Order ID, Quantity, and the price Total Owed
    /// (what was charged for the line) or else Unit Price × Quantity, in Currency.
    private func add(_ cells: Cells, location: String, ordinal: Int, to read: inout SourceRead) {
        if let status = cells["Order Status"]?.text.lowercased(), status == "cancelled" || status == "canceled" {
            read.skipped.cancelled += 1
            return
        }
        var draft = DraftRow(location: location, ordinal: ordinal)
        draft.paddedAmounts = true
        draft.mergeGroup = 0
        if defaultVendor == nil {
            draft.set(.vendor, Self.vendor(website: cells["Website"]?.text), label: cells.label("Website"))
        }
        if let name = cells["Product Name"] {
            draft.set(.item, DraftRow.oneLine(name.text), label: name.label)
        } else if let asin = cells["ASIN"] {
            draft.set(.item, "ASIN \(asin.text)", label: asin.label)
        } else {
            draft.emptyLabels[.item] = cells.label("Product Name") ?? cells.label("ASIN")
        }
        for (column, name) in [(ImportColumn.date, "Order Date"), (.order, "Order ID"), (.quantity, "Quantity")] {
            if let cell = cells[name] {
                draft.set(column, cell.text, label: cell.label)
            } else if let label = cells.label(name) {
                draft.emptyLabels[column] = label
            }
        }
        if let total = cells["Total Owed"] {
            draft.set(.price, total.text, label: total.label)
        } else if let unit = cells["Unit Price"] {
            draft.set(.price, unit.text, label: unit.label)
            draft.unitPrice = true
        }
        if draft[.price] != nil, let currency = cells["Currency"] { draft.set(.currency, currency.text, label: currency.label) }
        if let recipient = cells["Gift Recipient Contact Details"] {
            let firstLine = recipient.text.split(whereSeparator: \.isNewline).first.map(String.init) ?? recipient.text
            draft.set(.giftFor, String(firstLine.prefix(200)), label: recipient.label)
        } else if cells["Gift Message"] != nil || cells["Gift Sender Name"] != nil {
            draft.set(.giftFor, "unknown recipient", label: cells.label("Gift Message"))
        }
        read.drafts.append(draft)
    }

    /// The Website when it names an Amazon site (`Amazon.com`, `amazon.de`), without a scheme
    /// or `www.`; anything else (empty, a placeholder, an internal code) is `Amazon`.
    static func vendor(website: String?) -> String {
        guard var site = website?.trimmingCharacters(in: .whitespaces) else { return "Amazon" }
        for prefix in ["https://", "http://", "www."] where site.lowercased().hasPrefix(prefix) { site = String(site.dropFirst(prefix.count)) }
        while site.hasSuffix("/") { site.removeLast() }
        let lower = site.lowercased()
        guard lower.contains("amazon"), lower.contains("."), !lower.contains(" "), site.count <= 60 else { return "Amazon" }
        return site
    }
}
