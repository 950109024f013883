/// The import's options, checked, and the source they choose for the files.
struct ReadPlan {
    enum Kind: Equatable {
        case csv, json, amazonCSV, amazonJSON, schemaOrg, ofx, camt053
    }

    let kind: Kind
    let rules: ValueRules
    let columnMap: ColumnMap
    let delimiter: Unicode.Scalar
    let encoding: ImportEncoding?

    /// `csv`, `json`, `amazon`, `schema-org`, `ofx`, `camt053`.
    var sourceName: String {
        switch kind {
        case .csv: "csv"
        case .json: "json"
        case .amazonCSV, .amazonJSON: PurchaseImport.Preset.amazon.rawValue
        case .schemaOrg: PurchaseImport.Preset.schemaOrg.rawValue
        case .ofx: PurchaseImport.Preset.ofx.rawValue
        case .camt053: PurchaseImport.Preset.camt053.rawValue
        }
    }

    init(options: PurchaseImport.Options, files: [PurchaseImport.InputFile]) throws {
        let preset = try options.preset.map(Self.preset)
        var format: PurchaseImport.Format?
        if let given = options.format {
            guard let known = PurchaseImport.Format(rawValue: given.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw VaultError.invalidField([.importFormat], "import_format must be csv or json")
            }
            if let preset, preset != .amazon {
                throw VaultError.invalidField(
                    [.importFormat, .importPreset], "import_format applies to the generic formats and import_preset amazon, not to \(preset.rawValue)")
            }
            format = known
        }
        let isJSON = (format ?? (files.count == 1 && files[0].name.lowercased().hasSuffix(".json") ? .json : .csv)) == .json
        let kind: Kind
        switch preset {
        case nil: kind = isJSON ? .json : .csv
        case .amazon: kind = isJSON ? .amazonJSON : .amazonCSV
        case .schemaOrg: kind = .schemaOrg
        case .ofx: kind = .ofx
        case .camt053: kind = .camt053
        }
        self.kind = kind
        guard !files.isEmpty else { throw VaultError.invalidInput("there is no file to read") }
        guard files.count == 1 || kind == .schemaOrg else {
            throw VaultError.invalidField([.importPreset], "only import_preset schema-org reads a folder of files")
        }

        let generic = kind == .csv || kind == .json
        let amazon = kind == .amazonCSV || kind == .amazonJSON
        func refuse(_ field: VaultField, _ applies: String) throws -> Never {
            throw VaultError.invalidField([field, .importPreset], "\(field.rawValue) applies to \(applies), not to \(sourceNameFor(kind))")
        }
        if !options.columnMap.isEmpty, !generic { try refuse(.columnMap, "the generic csv and json formats") }
        if options.delimiter != nil, kind != .csv { try refuse(.csvDelimiter, "the generic csv format") }
        if options.dateFormat != nil, !(generic || amazon) { try refuse(.dateFormat, "the generic formats and import_preset amazon") }
        if options.decimalComma, !(generic || amazon) { try refuse(.decimalComma, "the generic formats and import_preset amazon") }
        if options.debitsOnly, !generic { try refuse(.debitsOnly, "the generic csv and json formats (ofx and camt053 read the direction themselves)") }

        columnMap = try ColumnMap(options.columnMap)
        delimiter = try Self.delimiter(options.delimiter)
        encoding = try options.encoding.map { name in
            guard let encoding = ImportEncoding(name: name) else {
                throw VaultError.invalidField([.importEncoding], "import_encoding must be utf-8 or windows-1252 (also for Latin-1 files)")
            }
            return encoding
        }
        var vendor: String?
        if let given = options.defaultVendor {
            let trimmed = given.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= VendorRegistry.maxNameLength else {
                throw VaultError.invalidField([.defaultVendor], "default_vendor must be 1-\(VendorRegistry.maxNameLength) characters")
            }
            vendor = trimmed
        }
        var currency: String?
        if let given = options.defaultCurrency {
            guard let code = CurrencyMark.named(given)?.alone else {
                throw VaultError.invalidField(
                    [.defaultCurrency], "default_currency \"\(ImportProblem.shown(given, 10))\" is not an ISO 4217 code such as EUR, USD, GBP, JPY")
            }
            currency = code
        }
        rules = ValueRules(
            dateFormat: try options.dateFormat.map(ImportDateFormat.init), decimalComma: options.decimalComma, defaultCurrency: currency,
            defaultVendor: vendor)
    }

    private static func preset(_ text: String) throws -> PurchaseImport.Preset {
        let name = text.trimmingCharacters(in: .whitespaces).lowercased()
        let aliases: [String: PurchaseImport.Preset] = [
            "schema.org": .schemaOrg, "schemaorg": .schemaOrg, "camt": .camt053, "camt.053": .camt053, "camt-053": .camt053, "camt53": .camt053,
        ]
        if let preset = PurchaseImport.Preset(rawValue: name) ?? aliases[name] { return preset }
        let names = PurchaseImport.Preset.allCases.map(\.rawValue)
        throw VaultError.invalidField(
            [.importPreset],
            "unknown import_preset \"\(ImportProblem.shown(text, 20))\"\(NearNames.hint(name, among: names)); presets are \(names.joined(separator: ", "))")
    }

    private static func delimiter(_ text: String?) throws -> Unicode.Scalar {
        guard let text else { return "," }
        switch text.lowercased() {
        case "tab", "\\t", "\t": return "\t"
        case "comma": return ","
        case "semicolon": return ";"
        case "pipe": return "|"
        default:
            guard text.unicodeScalars.count == 1, let c = text.first, let scalar = text.unicodeScalars.first, c != "\"", !c.isNewline, !c.isLetter,
                !c.isNumber, c != " "
            else {
                throw VaultError.invalidField([.csvDelimiter], "csv_delimiter must be one character such as ; or |, or tab")
            }
            return scalar
        }
    }

    /// Decodes a file's bytes: in the encoding asked for, else UTF-8.
    func text(_ file: PurchaseImport.InputFile) throws -> String {
        try ImportText.decode(file.data, encoding: encoding ?? .utf8, name: file.name)
    }

    /// A generic file's text; when it is not UTF-8, the error says what the file looks like
    /// (an OFX statement in Windows-1252 is the usual case).
    private func genericText(_ file: PurchaseImport.InputFile) throws -> String {
        do {
            return try text(file)
        } catch VaultError.invalidField(let fields, let message) {
            let hint = SourceHint.guess(text: ImportText.windows1252(Array(file.data.prefix(4000))))
            throw VaultError.invalidField(fields + (hint.isEmpty ? [] : [.importPreset]), message + hint)
        }
    }

    /// Runs the chosen source.
    func readSource(_ files: [PurchaseImport.InputFile]) throws -> SourceRead {
        guard let first = files.first else { throw VaultError.invalidInput("there is no file to read") }
        switch kind {
        case .csv: return try GenericCSV(map: columnMap, delimiter: delimiter, hasDefaultVendor: rules.defaultVendor != nil).read(try genericText(first))
        case .json: return try GenericJSON(map: columnMap).read(try genericText(first))
        case .amazonCSV: return try AmazonOrderHistory(defaultVendor: rules.defaultVendor).readCSV(try text(first))
        case .amazonJSON: return try AmazonOrderHistory(defaultVendor: rules.defaultVendor).readJSON(try text(first))
        case .schemaOrg: return try SchemaOrgOrders(encoding: encoding).read(files)
        case .ofx:
            let text = try encoding.map { try ImportText.decode(first.data, encoding: $0, name: first.name) } ?? ImportText.utf8OrWindows1252(first.data)
            return try OFXStatement().read(text)
        case .camt053: return try CAMT053Statement().read(try text(first))
        }
    }
}

private func sourceNameFor(_ kind: ReadPlan.Kind) -> String {
    switch kind {
    case .csv: "the generic csv format"
    case .json: "the generic json format"
    case .amazonCSV, .amazonJSON: "import_preset amazon"
    case .schemaOrg: "import_preset schema-org"
    case .ofx: "import_preset ofx"
    case .camt053: "import_preset camt053"
    }
}
