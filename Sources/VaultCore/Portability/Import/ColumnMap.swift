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
