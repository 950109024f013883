import Foundation

/// Spending grouped by vendor or month, per currency (never summed across currencies).
/// Returned purchases are not counted; a purchase's price is what was paid for the whole line.
public struct SpendingRow: Codable, Sendable, Equatable {
    public var group: String
    public var currency: String
    public var total: String
    public var purchases: Int
}

/// One vendor's scorecard.
public struct VendorScorecard: Codable, Sendable, Equatable {
    public var vendorID: String
    public var vendor: String
    public var stage: String
    public var purchases: Int
    /// Total spent, one entry per currency (`"12.30 EUR"`), returned purchases excluded.
    public var spend: [String]
    public var returns: Int
    public var openCases: Int
    public var resolvedCases: Int
    /// Median whole days from opening to resolving, over resolved and closed cases.
    public var medianDaysToResolve: Double?

    enum CodingKeys: String, CodingKey {
        case vendor, stage, purchases, spend, returns
        case vendorID = "vendor_id"
        case openCases = "open_cases", resolvedCases = "resolved_cases", medianDaysToResolve = "median_days_to_resolve"
    }
}

/// What one active grant lets a vendor read right now.
public struct ExposureRow: Codable, Sendable, Equatable {
    public var vendorID: String
    public var vendor: String
    public var grantID: String
    public var binding: String
    public var purpose: String
    /// Concrete items readable now, e.g. `profile.email`, `purchases from Acme (12)`.
    public var readable: [String]
    public var expiresAt: String?
    public var usesLeft: Int?

    enum CodingKeys: String, CodingKey {
        case vendor, binding, purpose, readable
        case vendorID = "vendor_id"
        case grantID = "grant_id", expiresAt = "expires_at", usesLeft = "uses_left"
    }
}

public enum SpendingGrouping: String, Sendable, CaseIterable {
    case vendor, month
}

/// Spending, vendor scorecards and exposure, computed from the decrypted records.
public struct Reports: Sendable {
    let context: VaultContext

    /// Spending per vendor or per month, per currency.
    public func spending(by grouping: SpendingGrouping, since: CalendarDate? = nil) throws -> [SpendingRow] {
        try context.read { transaction in
            let names = try VendorRegistry(context: context).names(in: transaction)
            // Each worker adds up its share of the purchases; the partial totals are then added.
            let partials = try PurchaseLedger(context: context).fold(into: [String: [String: (Int64, Int)]](), in: transaction) { totals, p in
                guard !p.annotations.returned, let price = p.price else { return }
                if let since, p.date < since { return }
                let key = grouping == .vendor ? (names[p.vendorID] ?? "(removed)") : p.date.monthKey
                try Self.add(price.minorUnits, count: 1, currency: price.currency, to: &totals[key, default: [:]])
            }
            var totals = partials.first ?? [:]
            for partial in partials.dropFirst() {
                for (key, byCurrency) in partial {
                    for (currency, value) in byCurrency {
                        try Self.add(value.0, count: value.1, currency: currency, to: &totals[key, default: [:]])
                    }
                }
            }
            return totals.flatMap { group, byCurrency in
                byCurrency.map { currency, value in
                    SpendingRow(group: group, currency: currency, total: Money(minorUnits: value.0, currency: currency).amount, purchases: value.1)
                }
            }.sorted { ($0.group.lowercased(), $0.currency) < ($1.group.lowercased(), $1.currency) }
        }
    }

    /// One scorecard per vendor: purchases, spend, returns and cases.
    public func vendorScorecards() throws -> [VendorScorecard] {
        try context.read { transaction in
            // One pass over the purchases, each worker tallying its share per vendor; the
            // purchases are never kept, and the partial tallies are then added up.
            // The cases are decoded on another thread while the purchases are tallied.
            let (partials, decodedCases) = try CaseBook(context: context).allCases(in: transaction) {
                try PurchaseLedger(context: context).fold(into: [String: ScorecardTally](), in: transaction, Self.tally)
            }
            var tallies = partials.first ?? [:]
            for partial in partials.dropFirst() {
                for (vendorID, tally) in partial { try Self.merge(tally, into: &tallies[vendorID, default: (0, 0, [:])]) }
            }
            let cases = Dictionary(grouping: decodedCases, by: \.vendorID)
            return try VendorRegistry(context: context).all(in: transaction).map { vendor in
                let tally = tallies[vendor.id] ?? (0, 0, [:])
                let supportCases = cases[vendor.id] ?? []
                let spend = tally.spend.mapValues(\.0)
                let days = supportCases.compactMap { c -> Double? in
                    guard !c.status.isOpen, let resolved = c.resolvedAt else { return nil }
                    return (resolved.timeIntervalSince(c.openedAt) / 86_400).rounded(.down)
                }.sorted()
                let median: Double? = days.isEmpty ? nil : days.count % 2 == 1 ? days[days.count / 2] : (days[days.count / 2 - 1] + days[days.count / 2]) / 2
                return VendorScorecard(
                    vendorID: vendor.id, vendor: vendor.name, stage: vendor.stage.rawValue, purchases: tally.count,
                    spend: spend.sorted { $0.key < $1.key }.map { Money(minorUnits: $0.value, currency: $0.key).formatted },
                    returns: tally.returns,
                    openCases: supportCases.filter(\.status.isOpen).count,
                    resolvedCases: supportCases.filter { !$0.status.isOpen }.count, medianDaysToResolve: median)
            }
        }
    }

    /// One vendor's purchases, returns and per-currency spend, as a scorecard counts them.
    typealias ScorecardTally = (count: Int, returns: Int, spend: [String: (Int64, Int)])

    /// Counts one purchase into its vendor's tally.
    @Sendable static func tally(_ tallies: inout [String: ScorecardTally], _ p: Purchase) throws {
        // One access, mutated in place: the vendor id is hashed once and the nested dictionary
        // never copied.
        try count(p, into: &tallies[p.vendorID, default: (0, 0, [:])])
    }

    private static func count(_ p: Purchase, into tally: inout ScorecardTally) throws {
        tally.count += 1
        if p.annotations.returned {
            tally.returns += 1
        } else if let price = p.price {
            try add(price.minorUnits, count: 1, currency: price.currency, to: &tally.spend)
        }
    }

    /// Adds one worker's tally for a vendor to the total.
    private static func merge(_ part: ScorecardTally, into tally: inout ScorecardTally) throws {
        tally.count += part.count
        tally.returns += part.returns
        for (currency, value) in part.spend { try add(value.0, count: value.1, currency: currency, to: &tally.spend) }
    }

    /// Adds `amount` (in minor units) and `count` purchases to a per-currency total; a total
    /// that would not fit is an error, never a wrapped number.
    static func add(_ amount: Int64, count: Int, currency: String, to totals: inout [String: (Int64, Int)]) throws {
        // One access to the entry (the currency hashed once), changed in place.
        try addTo(&totals[currency, default: (0, 0)], amount, count: count, currency: currency)
    }

    private static func addTo(_ total: inout (Int64, Int), _ amount: Int64, count: Int, currency: String) throws {
        let (sum, overflow) = total.0.addingReportingOverflow(amount)
        guard !overflow else { throw VaultError.invalidInput("the \(currency) total is too large to add up") }
        total = (sum, total.1 + count)
    }

    /// How many purchases and support cases each vendor has, by vendor id (counted, not decrypted).
    public func recordCounts() throws -> (purchases: [String: Int], cases: [String: Int]) {
        try context.read { transaction in (try transaction.purchases.countsByVendor(), try transaction.cases.countsByVendor()) }
    }

    /// Which vendor can read what through which active grant, as of now.
    public func exposure() throws -> [ExposureRow] {
        try context.read { transaction in
            // Who can see what is decided on the checked vault only.
            try context.checkHistory(in: transaction)
            let now = context.now
            let profileKeys = try ProfileBook(context: context).entries(in: transaction).map(\.key)
            let vendors = Dictionary(try VendorRegistry(context: context).all(in: transaction).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let purchaseCounts = try transaction.purchases.countsByVendor()
            let caseCounts = try transaction.cases.countsByVendor()
            return try ConsentEngine(context: context).grants(in: transaction).filter { $0.state(at: now) == .active }.map { grant in
                let name = grant.vendorName ?? "(removed)"
                var readable = profileKeys.filter { key in grant.scopes.contains { $0.covers(profileKey: key) } }.map { "profile." + $0 }
                if grant.scopes.contains(.vendor) { readable.append("vendor entry (name, site, contact, stage)") }
                if grant.scopes.contains(.vendorNotes) { readable.append("vendor notes") }
                let annotations = grant.scopes.contains(.purchaseAnnotations) ? " with annotations" : ""
                if grant.scopes.contains(.purchasesAll) {
                    readable.append("all purchases (\(purchaseCounts.values.reduce(0, +)))\(annotations)")
                } else if grant.scopes.contains(.purchasesOwn) {
                    readable.append("purchases from \(name) (\(purchaseCounts[grant.vendorID] ?? 0))\(annotations)")
                }
                if grant.scopes.contains(.casesOwn) { readable.append("cases with \(name) (\(caseCounts[grant.vendorID] ?? 0))") }
                return ExposureRow(
                    vendorID: grant.vendorID, vendor: vendors[grant.vendorID]?.name ?? name, grantID: grant.id, binding: grant.binding.rawValue,
                    purpose: grant.purpose.rawValue, readable: readable, expiresAt: grant.expiresAt.map(Timestamp.string), usesLeft: grant.usesLeft)
            }.sorted { ($0.vendor.lowercased(), $0.grantID) < ($1.vendor.lowercased(), $1.grantID) }
        }
    }
}
