/// What a grant shares. Each scope names exactly one slice of the customer's data.
///
/// Adding a kind of data is one new case here plus its line in `catalogue`, `covers` and the
/// share builder. Syntax and meaning: `Specs/grants.md`.
public enum Scope: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// `profile`: every profile field.
    case profile
    /// `profile.KEY`: one profile field.
    case profileField(String)
    /// `profile.PREFIX.*`: every field whose key starts with `PREFIX.`.
    case profilePrefix(String)
    /// `vendor`: the customer's registry entry for the grantee (name, site, contact, stage).
    case vendor
    /// `vendor.notes`: the customer's notes on the grantee.
    case vendorNotes
    /// `purchases:own`: purchases from the grantee.
    case purchasesOwn
    /// `purchases:all`: every purchase, from any vendor.
    case purchasesAll
    /// `purchases.annotations`: adds ratings, returns, warranty, notes and tags to shared purchases.
    case purchaseAnnotations
    /// `cases:own`: the customer's support cases with the grantee, with their timelines.
    case casesOwn

    /// Every accepted form, with its meaning (shown in errors and help).
    public static let catalogue: [(form: String, meaning: String)] = [
        ("profile", "every profile field"),
        ("profile.KEY", "one profile field, e.g. profile.email, profile.address.shipping"),
        ("profile.PREFIX.*", "every profile field under a prefix, e.g. profile.address.*"),
        ("vendor", "your registry entry for this vendor: name, site, contact, stage (no notes)"),
        ("vendor.notes", "your notes on this vendor (with its name only)"),
        ("purchases:own", "your purchases from this vendor: item, date, price, quantity, gift marker"),
        ("purchases:all", "all your purchases, from every vendor"),
        ("purchases.annotations", "with purchases:own/all, add your ratings, returns, warranty dates, notes, tags"),
        ("cases:own", "your support cases with this vendor, with their timelines"),
    ]

    /// One line listing the valid scopes, for error messages.
    public static var validForms: String { catalogue.map(\.form).joined(separator: ", ") }

    /// Parses one scope; throws an error that lists the valid ones.
    public static func parse(_ text: String) throws -> Scope {
        let t = text.trimmingCharacters(in: .whitespaces)
        switch t {
        case "profile": return .profile
        case "vendor": return .vendor
        case "vendor.notes": return .vendorNotes
        case "purchases:own": return .purchasesOwn
        case "purchases:all": return .purchasesAll
        case "purchases.annotations": return .purchaseAnnotations
        case "cases:own": return .casesOwn
        default: break
        }
        if t.hasPrefix("profile."), t.hasSuffix(".*") {
            let prefix = String(t.dropFirst("profile.".count).dropLast(2))
            if (try? ProfileKey.validate(prefix)) != nil { return .profilePrefix(prefix) }
        } else if t.hasPrefix("profile.") {
            let key = String(t.dropFirst("profile.".count))
            if (try? ProfileKey.validate(key)) != nil { return .profileField(key) }
        }
        let near = NearNames.hint(
            t, among: catalogue.map(\.form).filter { !$0.contains("KEY") && !$0.contains("PREFIX") } + ProfileKey.wellKnown.map { "profile.\($0)" })
        throw VaultError.invalidInput("unknown scope \"\(ImportProblem.shown(t, 80))\"\(near); valid scopes: \(validForms)")
    }

    public var description: String {
        switch self {
        case .profile: "profile"
        case .profileField(let key): "profile.\(key)"
        case .profilePrefix(let prefix): "profile.\(prefix).*"
        case .vendor: "vendor"
        case .vendorNotes: "vendor.notes"
        case .purchasesOwn: "purchases:own"
        case .purchasesAll: "purchases:all"
        case .purchaseAnnotations: "purchases.annotations"
        case .casesOwn: "cases:own"
        }
    }

    public static func < (a: Scope, b: Scope) -> Bool { a.description < b.description }

    /// Whether this scope shares the profile field `key`.
    public func covers(profileKey key: String) -> Bool {
        switch self {
        case .profile: true
        case .profileField(let field): field == key
        case .profilePrefix(let prefix): key.hasPrefix(prefix + ".")
        default: false
        }
    }

    /// The Kantara consent-receipt data category for this scope.
    public var dataCategory: String {
        switch self {
        case .profile, .profileField, .profilePrefix: "profile:" + description
        case .vendor, .vendorNotes: "relationship:" + description
        case .purchasesOwn, .purchasesAll, .purchaseAnnotations: "purchase-history:" + description
        case .casesOwn: "support-cases:" + description
        }
    }
}

/// A change to the customer's data, used to find the grants whose share must be rebuilt.
enum DataChange: Sendable {
    case profile(key: String)
    case vendor(id: String)
    /// Purchases of these vendors changed (one change for a whole import).
    case purchases(vendorIDs: Set<String>)
    case cases(vendorID: String)
    /// Every share is rebuilt (the format migration: shares gain what format 2 signs).
    case all

    func affects(scopes: [Scope], grantVendorID: String) -> Bool {
        switch self {
        case .profile(let key):
            scopes.contains { $0.covers(profileKey: key) }
        case .vendor(let id):
            // The share names its grantee, and purchases:all names every vendor.
            id == grantVendorID || scopes.contains(.purchasesAll)
        case .purchases(let vendorIDs):
            scopes.contains(.purchasesAll) || (scopes.contains(.purchasesOwn) && vendorIDs.contains(grantVendorID))
        case .cases(let vendorID):
            scopes.contains(.casesOwn) && vendorID == grantVendorID
        case .all:
            true
        }
    }
}
