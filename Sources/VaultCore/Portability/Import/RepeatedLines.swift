/// Lines of one order that carry the same item (Amazon lists an item once per shipment) are
/// one purchase: the de-duplication key is vendor + order number + item, so two of them would
/// otherwise count as a duplicate. Their quantities and prices are added. Only rows of one
/// merge group are merged: the same order in two mails is one order twice (a duplicate).
enum RepeatedLines {
    static func merge(_ rows: [PurchaseImport.Row], problems: inout [ImportProblem]) -> [PurchaseImport.Row] {
        var first: [String: Int] = [:]
        var merged: [PurchaseImport.Row] = []
        for row in rows {
            let p = row.purchase
            guard let order = p.orderNumber, let group = row.mergeGroup else {
                merged.append(row)
                continue
            }
            let key = [
                String(group), VendorRegistry.normalisedName(p.vendorName), order.trimmingCharacters(in: .whitespaces),
                p.item.trimmingCharacters(in: .whitespaces).lowercased(),
            ]
            .joined(separator: "\u{0}")
            guard let at = first[key] else {
                first[key] = merged.count
                merged.append(row)
                continue
            }
            var into = merged[at].purchase
            func refuse(_ why: String) {
                problems.append(
                    ImportProblem(
                        location: row.location, field: nil,
                        message:
                            "the same item of order \"\(ImportProblem.shown(order, 40))\" is also at \(merged[at].location), \(why); they cannot be one purchase",
                        ordinal: row.ordinal))
            }
            switch (into.price, p.price) {
            case (nil, nil): break
            case (let a?, let b?) where a.currency == b.currency:
                let (sum, overflow) = a.minorUnits.addingReportingOverflow(b.minorUnits)
                guard !overflow else {
                    refuse("and together their prices are too large")
                    continue
                }
                into.price = Money(minorUnits: sum, currency: a.currency)
            default:
                refuse("with another currency or without a price")
                continue
            }
            into.quantity += p.quantity
            guard into.quantity <= 1_000_000 else {
                refuse("and together their quantities pass 1000000")
                continue
            }
            if into.giftFor == nil { into.giftFor = p.giftFor }
            merged[at].purchase = into
        }
        return merged
    }
}
