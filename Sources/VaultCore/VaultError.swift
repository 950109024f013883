/// Every failure of the vault core. Associated values are ids, paths and reasons — never
/// personal plaintext, keys, passphrases or tokens.
public enum VaultError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No vault file at the path.
    case noVault(path: String)
    /// `init` found a file already there.
    case vaultExists(path: String)
    /// The header is intact but the passphrase does not unwrap the master key.
    case wrongPassphrase
    /// The file is not a readable vault (reason says why, in plain words).
    case corrupt(String)
    /// A record failed authentication: altered, or copied from another row or field.
    case tampered(table: String, id: String)
    /// A plaintext column disagrees with the sealed copy the CLI decides on: someone who could
    /// write the file changed it. `column` names it (or says what disagrees).
    case mismatch(table: String, id: String, column: String)
    /// The share history fails a check: `firstBad` is the first entry that fails, `reason` says how.
    case historyDamaged(firstBad: Int64, reason: String)
    /// Input rejected before anything was written.
    case invalidInput(String)
    /// Input rejected before anything was written, because of the named fields. The message
    /// names each field as `VaultField`'s raw value (`max_uses must be …`), so a front end can
    /// put its own name for it (the CLI's flag) in its place.
    case invalidField([VaultField], String)
    /// No such record (kind: "vendor", "grant", "profile key", …; id as the user gave it when not personal).
    case notFound(kind: String, id: String)
    /// The operation conflicts with the record's state (e.g. revoking a revoked grant).
    case conflict(String)
    /// The operation needs a vault without records (loading a whole export).
    case notEmpty
    /// The database refused the operation (busy, full disk, read-only file).
    case storage(String)

    public var description: String {
        switch self {
        case .noVault(let path): "no vault at \(path) (create one with `vrm init`)"
        case .vaultExists(let path): "a vault already exists at \(path); refusing to overwrite it"
        case .wrongPassphrase: "wrong passphrase"
        case .corrupt(let reason): "vault file is corrupt or unreadable: \(reason)"
        case .tampered(let table, let id): "vault file is corrupt: record \(table)/\(Self.printableID(id)) failed authentication (tampered or moved)"
        case .mismatch(let table, let id, let column):
            "vault file is corrupt: record \(table)/\(Self.printableID(id)): \(column) does not match its sealed copy (tampered)"
        case .historyDamaged(let firstBad, let reason): "share history damaged at entry \(firstBad): \(reason)"
        case .invalidInput(let message): message
        case .invalidField(_, let message): message
        case .notFound(let kind, let id): id.isEmpty ? "no such \(kind)" : "no \(kind) \(id)"
        case .conflict(let message): message
        case .notEmpty: "the vault already holds records; a whole export loads only into a vault with none"
        case .storage(let message): "storage error: \(message)"
        }
    }
}

extension VaultError {
    /// A row id read from the file, as it may appear in an error: at most 40 characters, and
    /// anything but printable ASCII shown as `?`, so a tampered id cannot write escape
    /// sequences or lines of its own into the terminal.
    static func printableID(_ id: String) -> String {
        String(String.UnicodeScalarView(id.unicodeScalars.prefix(40).map { (0x21...0x7E).contains($0.value) ? $0 : "?" }))
    }
}

/// Inputs of the core's API that an error can name (`VaultError.invalidField`).
public enum VaultField: String, Sendable, CaseIterable {
    /// `GrantRequest.scopes`.
    case scope
    /// `GrantRequest.allowUnsetFields`.
    case allowUnset = "allow_unset"
    /// `GrantRequest.maxUses`.
    case maxUses = "max_uses"
    /// `AnnotationEdit.rating`.
    case rating
    /// `AnnotationEdit.giftFor`.
    case giftFor = "gift_for"
    /// `AnnotationEdit.notGift`.
    case notGift = "not_gift"
    /// `PurchaseImport.Options.defaultVendor`.
    case defaultVendor = "default_vendor"
    /// `importPurchases`' `createVendors`.
    case createVendors = "create_vendors"
    /// `PurchaseImport.Options.preset`.
    case importPreset = "import_preset"
    /// `PurchaseImport.Options.format`.
    case importFormat = "import_format"
    /// `PurchaseImport.Options.columnMap`.
    case columnMap = "column_map"
    /// `PurchaseImport.Options.dateFormat`.
    case dateFormat = "date_format"
    /// `PurchaseImport.Options.delimiter`.
    case csvDelimiter = "csv_delimiter"
    /// `PurchaseImport.Options.decimalComma`.
    case decimalComma = "decimal_comma"
    /// `PurchaseImport.Options.debitsOnly`.
    case debitsOnly = "debits_only"
    /// `PurchaseImport.Options.defaultCurrency`.
    case defaultCurrency = "default_currency"
    /// `PurchaseImport.Options.encoding`.
    case importEncoding = "import_encoding"

    /// The inputs of a purchase import. Their names are made to appear nowhere else, so a
    /// problem list may name each any number of times.
    public static let importOptions: [VaultField] = [
        .defaultVendor, .createVendors, .importPreset, .importFormat, .columnMap, .dateFormat, .csvDelimiter, .decimalComma, .debitsOnly, .defaultCurrency,
        .importEncoding,
    ]
}
