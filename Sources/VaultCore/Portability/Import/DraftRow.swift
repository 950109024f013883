/// The columns of a purchase import, in the documented order.
public enum ImportColumn: String, CaseIterable, Sendable {
    case vendor, item, date, price, currency, order, quantity
    case giftFor = "gift_for"
}

/// One value read from a file, still text, and how the file names its field.
struct DraftField: Sendable, Equatable {
    var text: String
    /// `column "Order Date"`, `key "orderDate"`, `element DTPOSTED`; nil for a value the
    /// import supplies itself (`--vendor`, a preset's default).
    var label: String?
}

/// One row as a source read it: its place in the file and its values as text. Every source
/// (CSV, JSON, a preset) produces these; `RowChecker` turns them into purchases.
struct DraftRow: Sendable {
    var location: String
    var ordinal: Int
    var fields: [ImportColumn: DraftField] = [:]
    /// Labels of fields the file has but left empty, for "item is empty" and the like.
    var emptyLabels: [ImportColumn: String] = [:]
    /// The price is for one unit: the line's price is price × quantity (exactly).
    var unitPrice = false
    /// Rows of one group (an Amazon file, one schema.org Order) with the same order number and
    /// item are one purchase (`RepeatedLines`); nil: never merged.
    var mergeGroup: Int?
    /// Zeros past the currency's decimals are dropped (`12.340` EUR is 12.34): machine-written
    /// exports pad amounts; in our own columns they stay an error.
    var paddedAmounts = false
    /// What to say when the row names no vendor and there is no `--vendor`.
    var missingVendor = "no vendor (fill the vendor column or pass default_vendor)"
    /// Problems the source found in its own syntax for a field (an OFX date, a camt amount):
    /// reported with the row's other problems, and the field is not reported again as empty.
    var sourceProblems: [ImportColumn: ImportProblem] = [:]

    subscript(column: ImportColumn) -> DraftField? {
        get { fields[column] }
        set { fields[column] = newValue }
    }

    /// Sets `column` to `text` trimmed of spaces and tabs, unless that leaves nothing.
    mutating func set(_ column: ImportColumn, _ text: String?, label: String?) {
        guard let text else { return }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty {
            fields[column] = DraftField(text: trimmed, label: label)
        } else if let label {
            emptyLabels[column] = label
        }
    }

    /// `text` with each run of white space that holds a line break made one space: presets
    /// read names that exports wrap over several lines.
    static func oneLine(_ text: String?) -> String? {
        guard let text, text.contains(where: \.isNewline) else { return text }
        var out = ""
        var pending = ""
        for character in text {
            if character.isWhitespace {
                pending.append(character)
                continue
            }
            if !pending.isEmpty {
                out += pending.contains(where: \.isNewline) ? " " : pending
                pending = ""
            }
            out.append(character)
        }
        return out + (pending.contains(where: \.isNewline) ? "" : pending)
    }

    /// How the file names `column`'s field, if it has one.
    func label(_ column: ImportColumn) -> String? {
        fields[column]?.label ?? emptyLabels[column]
    }
}

/// How values are read, from the import's options.
struct ValueRules: Sendable {
    var dateFormat: ImportDateFormat?
    var decimalComma = false
    var defaultCurrency: String?
    var defaultVendor: String?
}
