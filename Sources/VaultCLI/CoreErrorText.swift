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
        }
    }

    /// The error's message with each named field's first mention replaced by its flag.
    static func message(for error: VaultError) -> String {
        if case .notEmpty = error { return "import-all needs a vault with no records yet; create one with `vrm init --vault NEW`" }
        guard case .invalidField(let fields, var message) = error else { return error.description }
        for field in fields {
            if let range = message.range(of: field.rawValue) { message.replaceSubrange(range, with: flag(for: field)) }
        }
        return message
    }
}
