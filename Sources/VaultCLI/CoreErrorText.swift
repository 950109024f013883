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
            message = replacing(field.rawValue, with: flag(for: field), in: message, every: VaultField.importOptions.contains(field))
        }
        return message
    }

    /// Replaces `name` (its first mention, or `every` one) outside double-quoted text: what a
    /// message quotes comes from a file or the user (`invalid date "date_format"`) and is left as
    /// written.
    static func replacing(_ name: String, with flag: String, in message: String, every: Bool) -> String {
        var result = ""
        var rest = Substring(message)
        var quoted = false
        var replaced = false
        while !rest.isEmpty {
            if rest.first == "\"" {
                quoted.toggle()
                result.append("\"")
                rest = rest.dropFirst()
            } else if !quoted, every || !replaced, rest.hasPrefix(name) {
                result += flag
                rest = rest.dropFirst(name.count)
                replaced = true
            } else {
                result.append(rest.removeFirst())
            }
        }
        return result
    }
}
