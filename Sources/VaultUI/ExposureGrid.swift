import Foundation
import VaultCore

/// Who can read which of the customer's data: one row per vendor that holds or held a grant,
/// one column per piece of data (each profile field, the vendor entry, the notes, purchases,
/// their annotations, cases), each cell the grants that cover it — ended ones too, marked.
struct ExposureGrid: Sendable {
    struct Column: Sendable, Equatable {
        /// `profile.email`, `vendor`, `vendor.notes`, `purchases`, `purchases.annotations`, `cases`.
        var id: String
        var title: String
        var hint: String
    }

    struct Mark: Sendable {
        var grant: Grant
        var state: GrantState
        /// What the grant reaches in this column, when it says more than yes (`own (12)`).
        var detail: String?
    }

    struct Row: Sendable {
        var vendorID: String
        var vendor: String
        /// The vendor's grants, active first, then the newest.
        var grants: [Grant]
        var cells: [[Mark]]
    }

    /// Active grants first, then the newest: the order of cells and of the grants table.
    static func activeFirst(_ a: Grant, _ b: Grant, now: Date) -> Bool {
        let (sa, sb) = (a.state(at: now) == .active, b.state(at: now) == .active)
        return sa != sb ? sa : (a.createdAt, a.id) > (b.createdAt, b.id)
    }

    var columns: [Column]
    var rows: [Row]

    static func build(
        grants: [Grant], profileKeys: [String], vendors: [Vendor], purchaseCounts: [String: Int], caseCounts: [String: Int], now: Date
    ) -> ExposureGrid {
        // Every profile field set, and any a grant names that is not set (yet).
        var keys = Set(profileKeys)
        for grant in grants {
            for case .profileField(let key) in grant.scopes { keys.insert(key) }
        }
        let setKeys = Set(profileKeys)
        var columns = keys.sorted().map { key in
            Column(id: "profile." + key, title: "profile." + key, hint: setKeys.contains(key) ? "profile field" : "profile field, not set")
        }
        columns += [
            Column(id: "vendor", title: "Vendor entry", hint: "name, site, contact, stage"),
            Column(id: "vendor.notes", title: "Your notes", hint: "your notes on the vendor"),
            Column(id: "purchases", title: "Purchases", hint: "item, date, price"),
            Column(id: "purchases.annotations", title: "Purchase annotations", hint: "ratings, returns, warranty, notes, tags"),
            Column(id: "cases", title: "Support cases", hint: "with their timelines"),
        ]
        let totalPurchases = purchaseCounts.values.reduce(0, +)
        let names = Dictionary(vendors.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let byVendor = Dictionary(grouping: grants, by: \.vendorID)
        let rows = byVendor.map { vendorID, vendorGrants -> Row in
            let ordered = vendorGrants.sorted { activeFirst($0, $1, now: now) }
            let cells = columns.map { column -> [Mark] in
                ordered.compactMap { grant -> Mark? in
                    guard
                        let detail = reach(
                            of: grant, in: column.id, purchases: (purchaseCounts[vendorID] ?? 0, totalPurchases), cases: caseCounts[vendorID] ?? 0)
                    else { return nil }
                    return Mark(grant: grant, state: grant.state(at: now), detail: detail.isEmpty ? nil : detail)
                }
            }
            return Row(
                vendorID: vendorID, vendor: names[vendorID] ?? vendorGrants.first?.vendorName ?? "(removed vendor)", grants: ordered, cells: cells)
        }.sorted { ($0.vendor.lowercased(), $0.vendorID) < ($1.vendor.lowercased(), $1.vendorID) }
        return ExposureGrid(columns: columns, rows: rows)
    }

    /// What `grant` reaches in the column `id`: nil for nothing, "" for the whole of it, or
    /// words for a part.
    static func reach(of grant: Grant, in id: String, purchases: (own: Int, all: Int), cases: Int) -> String? {
        let scopes = grant.scopes
        switch id {
        case "vendor": return scopes.contains(.vendor) ? "" : nil
        case "vendor.notes": return scopes.contains(.vendorNotes) ? "" : nil
        case "purchases":
            if scopes.contains(.purchasesAll) { return "all (\(purchases.all))" }
            return scopes.contains(.purchasesOwn) ? "theirs (\(purchases.own))" : nil
        case "purchases.annotations":
            return scopes.contains(.purchaseAnnotations) && (scopes.contains(.purchasesAll) || scopes.contains(.purchasesOwn)) ? "" : nil
        case "cases": return scopes.contains(.casesOwn) ? "theirs (\(cases))" : nil
        default:
            guard id.hasPrefix("profile.") else { return nil }
            let key = String(id.dropFirst("profile.".count))
            return scopes.contains { $0.covers(profileKey: key) } ? "" : nil
        }
    }
}
