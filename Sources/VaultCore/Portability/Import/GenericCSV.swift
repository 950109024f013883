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
            guard read.fieldsMatch(record, header: written.count, ordinal: ordinal) else { continue }
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
