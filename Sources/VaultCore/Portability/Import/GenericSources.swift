/// `--map SOURCE=COLUMN`: a file's own column (or JSON key) read as one of ours, or
/// `SOURCE=-` to ignore it. Sources are compared trimmed and lower-cased.
struct ColumnMap: Sendable {
    struct Entry: Sendable {
        var source: String
        var written: String
        /// nil: ignore the column.
        var target: ImportColumn?
    }

    var entries: [Entry] = []

    init(_ values: [String]) throws {
        for value in values {
            guard let equals = value.lastIndex(of: "=") else {
                throw VaultError.invalidField([.columnMap], "column_map \"\(ImportProblem.shown(value, 60))\" must be SOURCE=COLUMN, e.g. \"Order Date=date\"")
            }
            let written = value[..<equals].trimmingCharacters(in: .whitespaces)
            let target = value[value.index(after: equals)...].trimmingCharacters(in: .whitespaces).lowercased()
            guard !written.isEmpty else {
                throw VaultError.invalidField([.columnMap], "column_map \"\(ImportProblem.shown(value, 60))\" names no source column before the =")
            }
            let column = ImportColumn(rawValue: target)
            guard column != nil || target == "-" else {
                throw VaultError.invalidField(
                    [.columnMap],
                    "column_map \"\(ImportProblem.shown(value, 60))\": \"\(ImportProblem.shown(target, 30))\" is not a column"
                        + "\(NearNames.hint(target, among: PurchaseImport.columns)); columns are \(PurchaseImport.columns.joined(separator: ", ")), or - to ignore"
                )
            }
            let source = written.lowercased()
            guard !entries.contains(where: { $0.source == source }) else {
                throw VaultError.invalidField([.columnMap], "column_map maps \"\(ImportProblem.shown(written, 60))\" twice")
            }
            entries.append(Entry(source: source, written: written, target: column))
        }
    }

    /// nil: not mapped; `.some(nil)`: ignored; `.some(column)`: read as `column`.
    func target(for name: String) -> ImportColumn?? {
        let source = name.trimmingCharacters(in: .whitespaces).lowercased()
        guard let entry = entries.first(where: { $0.source == source }) else { return nil }
        return .some(entry.target)
    }
}

/// A guess at what a file that failed as generic CSV or JSON really is, as advice.
enum SourceHint {
    static func guess(text: String, header: [String] = []) -> String {
        let head = String(text.prefix(4000))
        let names = Set(header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        if names.contains("order id"), !names.isDisjoint(with: ["asin", "website", "product name", "total owed"]) {
            return " (this looks like an Amazon order history: pass import_preset amazon)"
        }
        if head.contains("OFXHEADER") || head.contains("<OFX>") { return " (this looks like an OFX statement: pass import_preset ofx)" }
        if head.contains("camt.053") || head.contains("BkToCstmrStmt") { return " (this looks like a camt.053 statement: pass import_preset camt053)" }
        if head.contains("schema.org") || head.lowercased().contains("application/ld+json") {
            return " (this looks like schema.org markup: pass import_preset schema-org)"
        }
        return ""
    }
}

/// Our own CSV layout: a header of our column names (or `--map`ped ones), then rows.
struct GenericCSV {
    let map: ColumnMap
    let delimiter: Unicode.Scalar
    let hasDefaultVendor: Bool

    func read(_ text: String) throws -> SourceRead {
        let records: [CSV.Record]
        do {
            records = try CSV.parse(text, delimiter: delimiter)
        } catch let error as CSV.ParseError {
            throw VaultError.invalidField(VaultField.importOptions, error.description + SourceHint.guess(text: text))
        }
        var needed: [ImportColumn] = [.item, .date]
        if !hasDefaultVendor { needed.insert(.vendor, at: 0) }
        guard let header = records.first else {
            throw VaultError.invalidInput("the file is empty: expected a header line with \(needed.map(\.rawValue).joined(separator: ", "))")
        }
        let written = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        let at = "line \(header.line)"
        let listed = written.joined(separator: ", ")

        let absent = map.entries.filter { entry in !written.contains { $0.lowercased() == entry.source } }
        if !absent.isEmpty {
            let names = absent.map { "\"\(ImportProblem.shown($0.written, 40))\"" }.joined(separator: ", ")
            throw VaultError.invalidField(
                [.columnMap], "\(at): column_map names \(names), which the header does not have (the header has: \(ImportProblem.shown(listed, 300)))")
        }
        var columns: [ImportColumn?] = []
        var unknown: [String] = []
        for (index, name) in written.enumerated() {
            if let mapped = map.target(for: name) {
                columns.append(mapped)
            } else if let own = ImportColumn(rawValue: name.lowercased()) {
                columns.append(own)
            } else if name.isEmpty, let holding = records.dropFirst().first(where: { index < $0.fields.count && !$0.fields[index].allSatisfy(\.isWhitespace) })
            {
                throw VaultError.invalidField(
                    [.columnMap],
                    "\(at): column \(index + 1) has no name, but line \(holding.line) has a value in it: name it in the header, then map or ignore it with column_map"
                )
            } else if name.isEmpty {
                // A trailing separator (spreadsheets write them): a column with no name and no value.
                columns.append(nil)
            } else {
                columns.append(nil)
                unknown.append(name)
            }
        }
        if let first = unknown.first {
            let names = unknown.map { "\"\(ImportProblem.shown($0, 40))\"" }.joined(separator: ", ")
            let shownFirst = ImportProblem.shown(first, 40)
            throw VaultError.invalidField(
                VaultField.importOptions,
                "\(at): unknown column\(unknown.count == 1 ? "" : "s") \(names); columns are \(PurchaseImport.columns.joined(separator: ", "))"
                    + "; map a column with column_map \"\(shownFirst)=COLUMN\" or ignore it with column_map \"\(shownFirst)=-\""
                    + SourceHint.guess(text: text, header: written))
        }
        for column in ImportColumn.allCases {
            let sources = zip(written, columns).filter { $0.1 == column }.map(\.0)
            guard sources.count > 1 else { continue }
            let spelled = sources.contains { $0.lowercased() != column.rawValue }
            throw VaultError.invalidInput(
                "\(at): column \"\(column.rawValue)\" appears twice"
                    + (spelled ? " (\(sources.map { "\"\(ImportProblem.shown($0, 40))\"" }.joined(separator: " and ")))" : ""))
        }
        for column in needed where !columns.contains(column) {
            let message = "\(at): missing column \"\(column.rawValue)\" (the header has: \(ImportProblem.shown(listed, 300)))"
            guard column == .vendor else { throw VaultError.invalidInput(message) }
            throw VaultError.invalidField([.defaultVendor], message + "; or pass default_vendor")
        }

        var read = SourceRead()
        for (ordinal, record) in records.dropFirst().enumerated() {
            let location = "line \(record.line)"
            guard record.fields.count == written.count else {
                read.problems.append(
                    ImportProblem(
                        location: location, field: nil, message: "expected \(written.count) fields, found \(record.fields.count)", ordinal: ordinal))
                continue
            }
            var draft = DraftRow(location: location, ordinal: ordinal)
            for (index, column) in columns.enumerated() {
                guard let column else { continue }
                draft.set(column, record.fields[index], label: "column \"\(ImportProblem.shown(written[index], 40))\"")
            }
            read.drafts.append(draft)
        }
        return read
    }
}

/// Our own JSON layout: an array of objects with our column names as keys (or `--map`ped ones).
struct GenericJSON {
    let map: ColumnMap

    /// " (did you mean "date"?)" for a near miss, a different case included (keys are case-sensitive).
    static func hint(_ key: String) -> String {
        if let column = ImportColumn(rawValue: key.lowercased()) { return " (did you mean \"\(column.rawValue)\"?)" }
        return NearNames.hint(key, among: PurchaseImport.columns)
    }

    static var shape: String { "the JSON file must be an array of objects with keys \(PurchaseImport.columns.joined(separator: ", "))" }

    func read(_ text: String) throws -> SourceRead {
        let value: JSONValue
        do {
            value = try JSONText.parse(text)
        } catch let error as JSONSyntaxError {
            throw VaultError.invalidField(VaultField.importOptions, Self.shape + " (\(error))" + SourceHint.guess(text: text))
        }
        guard let elements = value.elements else { throw VaultError.invalidField(VaultField.importOptions, Self.shape + SourceHint.guess(text: text)) }
        var read = SourceRead()
        for (ordinal, element) in elements.enumerated() {
            let location = "entry \(ordinal + 1)"
            func problem(_ field: String?, _ message: String) {
                read.problems.append(ImportProblem(location: location, field: field, message: message, ordinal: ordinal))
            }
            guard let members = element.members else {
                problem(nil, "not an object")
                continue
            }
            var draft = DraftRow(location: location, ordinal: ordinal)
            var seen: Set<String> = []
            var bad = false
            for member in members {
                let label = "key \"\(ImportProblem.shown(member.key, 40))\""
                guard seen.insert(member.key).inserted else {
                    problem(label, "the key appears twice")
                    bad = true
                    continue
                }
                let column: ImportColumn
                if let mapped = map.target(for: member.key) {
                    guard let mapped else { continue }
                    column = mapped
                } else if let own = ImportColumn(rawValue: member.key) {
                    column = own
                } else {
                    problem(
                        nil,
                        "unknown key \"\(ImportProblem.shown(member.key, 40))\"\(Self.hint(member.key)); keys are "
                            + PurchaseImport.columns.joined(separator: ", "))
                    bad = true
                    continue
                }
                switch member.value {
                case .string(let text): draft.set(column, text, label: label)
                case .null: break
                case .number(let literal) where column == .quantity:
                    guard let whole = JSONNumber.wholeNumber(literal) else {
                        problem(label, "quantity must be a string or a whole number")
                        bad = true
                        continue
                    }
                    draft.set(column, whole, label: label)
                default:
                    let what = column == .quantity ? " or a whole number" : column == .price ? " (write prices as \"12.34\")" : ""
                    problem(label, "\(ImportProblem.shown(member.key, 40)) must be a string\(what)")
                    bad = true
                }
            }
            if !bad { read.drafts.append(draft) }
        }
        return read
    }
}
