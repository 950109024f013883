import VaultCore

/// What the CLI prints for a core error: the core names its inputs (`VaultField`), the CLI
/// names its own flags for them.
enum CoreErrorText {
    /// The flag (with its value's name, where the message wants one) that sets each core input.
    static func flag(for field: VaultField) -> String {
        switch field {
        case .scope: "--scope"
        case .maxUses: "--max-uses"
        case .allowUnset: "--allow-unset"
        case .rating: "--rating"
        case .giftFor: "--gift-for"
        case .notGift: "--not-gift"
        case .defaultVendor: "--vendor NAME"
        case .createVendors: "--create-vendors"
        case .importPreset: "--preset"
        case .importFormat: "--format"
        case .columnMap: "--map"
        case .dateFormat: "--date-format"
        case .csvDelimiter: "--delimiter"
        case .decimalComma: "--decimal-comma"
        case .debitsOnly: "--debits-only"
        case .defaultCurrency: "--currency"
        case .importEncoding: "--encoding"
        }
    }

    /// The error's message with each named field's first mention replaced by its flag; an
    /// import option's every mention (a problem list names it once per problem).
    static func message(for error: VaultError) -> String {
        if case .notEmpty = error { return "import-all needs a vault with no records yet; create one with `vrm init --vault NEW`" }
        guard case .invalidField(let fields, var message) = error else { return error.description }
        for field in fields {
            if VaultField.importOptions.contains(field) {
                message = message.replacingOccurrences(of: field.rawValue, with: flag(for: field))
            } else if let range = message.range(of: field.rawValue) {
                message.replaceSubrange(range, with: flag(for: field))
            }
        }
        return message
    }
}
