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
