public import Foundation

/// Reads purchases from the files customers have — our own CSV and JSON columns, an Amazon
/// order history, schema.org `Order` mail markup, OFX and camt.053 bank statements — through
/// one pipeline (`Specs/import.md`): a source turns the file into draft rows with their
/// locations, every row is checked (all problems collected), and `Portability.importPurchases`
/// resolves vendors, drops duplicates and writes everything in one transaction, or nothing.
public enum PurchaseImport {
    /// The generic formats, with our column names.
    public enum Format: String, Sendable, CaseIterable {
        case csv, json
    }

    /// The exports the import knows by their own layout.
    public enum Preset: String, Sendable, CaseIterable {
        /// Amazon "Your Orders" data export (`Retail.OrderHistory.1.csv`, or its JSON form).
        case amazon
        /// schema.org `Order` JSON-LD, as shops put it in order e-mails.
        case schemaOrg = "schema-org"
        /// OFX 1.x (SGML) or 2.x (XML) bank and card statements.
        case ofx
        /// ISO 20022 camt.053 bank statements, versions 001.02 to 001.08.
        case camt053
    }

    /// Column names, in the documented order.
    public static let columns = ImportColumn.allCases.map(\.rawValue)

    /// What the user asked for; every value is checked by `read`, which names the option
    /// (`import_preset`, `column_map`, …) in its errors.
    public struct Options: Sendable {
        /// `csv` or `json` (generic, or Amazon's two forms); nil: from the file name.
        public var format: String?
        /// `amazon`, `schema-org`, `ofx`, `camt053`; nil: the generic format.
        public var preset: String?
        /// The vendor for rows that name none (Amazon: for every row).
        public var defaultVendor: String?
        /// `SOURCE=COLUMN` (or `SOURCE=-` to ignore a column), generic formats only.
        public var columnMap: [String] = []
        /// A strftime-style date layout (`ImportDateFormat`).
        public var dateFormat: String?
        /// The CSV separator: one character, or `tab`.
        public var delimiter: String?
        /// Amounts are written `1.234,56`.
        public var decimalComma = false
        /// The currency of rows that give none.
        public var defaultCurrency: String?
        /// `utf-8` (the default) or `windows-1252`.
        public var encoding: String?
        /// The amounts carry a sign, as in a bank's export: negative ones are purchases (their
        /// magnitude), the others credits, left out and counted. Generic formats only.
        public var debitsOnly = false

        public init(
            format: String? = nil, preset: String? = nil, defaultVendor: String? = nil, columnMap: [String] = [], dateFormat: String? = nil,
            delimiter: String? = nil, decimalComma: Bool = false, defaultCurrency: String? = nil, encoding: String? = nil, debitsOnly: Bool = false
        ) {
            self.debitsOnly = debitsOnly
            self.format = format
            self.preset = preset
            self.defaultVendor = defaultVendor
            self.columnMap = columnMap
            self.dateFormat = dateFormat
            self.delimiter = delimiter
            self.decimalComma = decimalComma
            self.defaultCurrency = defaultCurrency
            self.encoding = encoding
        }
    }

    /// One file to read: its name (for messages, the CSV/JSON choice and a folder's locations)
    /// and its bytes.
    public struct InputFile: Sendable {
        public var name: String
        public var data: Data

        public init(name: String, data: Data) {
            self.name = name
            self.data = data
        }
    }

    /// One checked row and where it came from (`line 4`, `entry 2`, `order 1, item 2`).
    public struct Row: Sendable, Equatable {
        public var location: String
        public var purchase: NewPurchase
        /// The row's place in the file, for problems in file order.
        var ordinal = 0
        /// How the file names the vendor's field, if it does.
        var vendorLabel: String?
        /// The vendor is `--vendor`'s.
        var vendorFromOption = false
        /// See `DraftRow.mergeGroup`.
        var mergeGroup: Int?
    }

    /// Rows a source leaves out on purpose, by reason.
    public struct Skipped: Sendable, Equatable {
        /// Cancelled orders' lines (Amazon, schema.org).
        public var cancelled = 0
        /// Money in: credits and zero amounts (OFX, camt.053).
        public var credits = 0
        /// Reversed bookings (camt.053 `RvslInd`).
        public var reversals = 0
        /// Bookings not final yet (camt.053 status `PDNG` or `INFO`).
        public var pending = 0
        /// Files of a folder with no schema.org `Order` in them.
        public var filesWithoutOrder = 0

        public init() {}
    }

    /// What a source gave: the rows that passed every check, the problems of the others,
    /// what was left out on purpose, and which source read it (`csv`, `amazon`, …).
    public struct Batch: Sendable {
        public var rows: [Row]
        public var problems: [ImportProblem]
        public var skipped: Skipped
        public var source: String
        /// Rows rejected for other problems, with only their vendor: an unknown vendor among
        /// them is reported in the same run. Never written.
        var vendorsOfRejectedRows: [Row] = []
    }

    /// Reads `files` (one file, or a folder's files for schema-org). A problem with the file
    /// as a whole (not UTF-8, not JSON, a missing column, malformed XML, a bad option) throws;
    /// problems of single rows are collected in the batch, to be reported all at once.
    public static func read(_ files: [InputFile], options: Options) throws -> Batch {
        let plan = try ReadPlan(options: options, files: files)
        var read = try plan.readSource(files)
        if options.debitsOnly { read.keepDebits() }
        let checker = RowChecker(rules: plan.rules)
        var rows: [Row] = []
        var vendorsOfRejectedRows: [Row] = []
        for draft in read.drafts {
            switch checker.check(draft) {
            case .success(let row): rows.append(row)
            case .failure(let failure):
                read.problems += failure.problems
                if let vendorOnly = failure.vendorOnly { vendorsOfRejectedRows.append(vendorOnly) }
            }
        }
        rows = RepeatedLines.merge(rows, problems: &read.problems)
        let problems = read.problems.enumerated().sorted { ($0.element.ordinal, $0.offset) < ($1.element.ordinal, $1.offset) }.map(\.element)
        return Batch(rows: rows, problems: problems, skipped: read.skipped, source: plan.sourceName, vendorsOfRejectedRows: vendorsOfRejectedRows)
    }

    /// Parses a generic CSV or JSON text and throws every row problem at once: for callers
    /// (tests, the fuzzer) that want the rows or the error.
    public static func parse(_ text: String, format: Format, defaultVendor: String?) throws -> [Row] {
        let batch = try read(
            [InputFile(name: format == .json ? "input.json" : "input.csv", data: Data(text.utf8))],
            options: Options(format: format.rawValue, defaultVendor: defaultVendor))
        guard batch.problems.isEmpty else { throw ImportProblem.rejection(batch.problems) }
        return batch.rows
    }
}

/// What one source read.
struct SourceRead: Sendable {
    var drafts: [DraftRow] = []
    var problems: [ImportProblem] = []
    var skipped = PurchaseImport.Skipped()

    /// `--debits-only`: a row whose amount carries a minus (`-24,99`, `−24.99`, `24,99-`,
    /// `-€24.99`, `EUR -24.99`) or is in parentheses (`(24.99)`) keeps its magnitude; a row
    /// with an amount and no such sign is a credit, left out and counted; a row without an
    /// amount, or with a minus anywhere else (`1-2`), stays as it is for the checks to judge.
    mutating func keepDebits() {
        var kept: [DraftRow] = []
        for var draft in drafts {
            guard let field = draft[.price] else {
                kept.append(draft)
                continue
            }
            switch Self.sign(of: field.text) {
            case .credit: skipped.credits += 1
            case .debit(let magnitude):
                draft.set(.price, magnitude, label: field.label)
                kept.append(draft)
            case .unclear: kept.append(draft)
            }
        }
        drafts = kept
    }

    enum Sign: Equatable {
        case debit(String)
        case credit
        case unclear
    }

    /// Whether an amount's text is a debit (with its magnitude) or a credit.
    static func sign(of text: String) -> Sign {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("("), t.hasSuffix(")") { return .debit(String(t.dropFirst().dropLast())) }
        let minuses: Set<Character> = ["-", "\u{2212}"]
        let found = t.indices.filter { minuses.contains(t[$0]) }
        guard let index = found.first else { return .credit }
        guard found.count == 1 else { return .unclear }
        let before = t[..<index], after = t[t.index(after: index)...]
        let leading = !before.contains(where: \.isNumber) && after.contains(where: \.isNumber)
        let trailing = after.allSatisfy(\.isWhitespace) && before.contains(where: \.isNumber)
        guard leading || trailing else { return .unclear }
        return .debit(String(before) + String(after))
    }

    /// Whether a CSV record has as many fields as the header; if not, the problem is noted.
    mutating func fieldsMatch(_ record: CSV.Record, header count: Int, ordinal: Int) -> Bool {
        guard record.fields.count != count else { return true }
        problems.append(
            ImportProblem(location: "line \(record.line)", field: nil, message: "expected \(count) fields, found \(record.fields.count)", ordinal: ordinal))
        return false
    }
}
