import Foundation
import VaultCrypto

/// Purchases and the customer's annotations on them: one sealed row each (binary encoding:
/// reports read them by the hundred thousand). Changing purchases re-materialises the grants
/// that share them.
public struct PurchaseLedger: Sendable {
    let context: VaultContext

    static let maxTextLength = 2000

    /// Adds purchases in one transaction and re-materialises affected grants once.
    /// Rows whose vendor + order number + item already exist are skipped; returns the ones added.
    @discardableResult
    public func add(_ items: [NewPurchase]) throws -> (added: [Purchase], skipped: Int) {
        for item in items { try Self.validate(item) }
        let vendors = VendorRegistry(context: context)
        return try context.write { transaction in
            var added: [Purchase] = []
            var skipped = 0
            var vendorIDs: Set<String> = []
            var seen: Set<[UInt8]> = []
            for item in items {
                let vendor = try vendors.vendor(named: item.vendorName, in: transaction)
                let dedupe = item.orderNumber.map { dedupeIndex(vendorID: vendor.id, order: $0, item: item.item) }
                if let dedupe {
                    if try transaction.purchases.exists(dedupeIndex: dedupe) || seen.contains(dedupe) {
                        skipped += 1
                        continue
                    }
                    seen.insert(dedupe)
                }
                let purchase = Purchase(
                    id: Random.identifier(prefix: "p_"), vendorID: vendor.id, item: item.item, date: item.date ?? CalendarDate(context.now),
                    price: item.price, orderNumber: item.orderNumber, quantity: item.quantity, giftFor: item.giftFor,
                    annotations: PurchaseAnnotations(), createdAt: context.now)
                try insert(purchase, dedupe: dedupe, in: transaction)
                added.append(purchase)
                vendorIDs.insert(vendor.id)
            }
            if !vendorIDs.isEmpty {
                try ConsentEngine(context: context).rematerialise(affectedBy: .purchases(vendorIDs: vendorIDs), in: transaction)
            }
            return (added, skipped)
        }
    }

    /// Checks a new purchase before anything is asked or written.
    public static func validate(_ item: NewPurchase) throws {
        guard !item.item.trimmingCharacters(in: .whitespaces).isEmpty, item.item.count <= maxTextLength else {
            throw VaultError.invalidInput("the item must be 1-\(maxTextLength) characters")
        }
        guard (1...1_000_000).contains(item.quantity) else { throw VaultError.invalidInput("the quantity must be a whole number from 1 to 1000000") }
        if let order = item.orderNumber, order.isEmpty || order.count > 200 { throw VaultError.invalidInput("the order number must be 1-200 characters") }
        if let who = item.giftFor, who.isEmpty || who.count > 200 { throw VaultError.invalidInput("the gift recipient (gift_for) must be 1-200 characters") }
    }

    /// Purchases, newest first.
    public func list(_ filter: PurchaseFilter = PurchaseFilter()) throws -> [Purchase] {
        try context.read { transaction in
            let vendorID = try filter.vendorName.map { try VendorRegistry(context: context).vendor(named: $0, in: transaction).id }
            var result = try transaction.purchases.rows(vendorID: vendorID).map(decode)
            if let since = filter.since { result = result.filter { $0.date >= since } }
            if let gifts = filter.gifts { result = result.filter { $0.isGift == gifts } }
            return result.sorted { ($0.date, $0.createdAt) > ($1.date, $1.createdAt) }
        }
    }

    /// One purchase; throws `notFound`.
    public func purchase(id: String) throws -> Purchase {
        try context.read { transaction in try purchase(id: id, in: transaction) }
    }

    /// Removes a purchase and re-materialises the grants that shared it.
    public func remove(id: String) throws {
        _ = try remove(ids: [id])
    }

    /// Removes several purchases in one transaction, all or none (an unknown id removes
    /// nothing); the grants that shared them are re-materialised once.
    @discardableResult
    public func remove(ids: [String]) throws -> [Purchase] {
        let removed = try context.write { transaction -> [Purchase] in
            var removed: [Purchase] = []
            for id in Set(ids).sorted() {
                let purchase = try purchase(id: id, in: transaction)
                try transaction.purchases.delete(id: id)
                removed.append(purchase)
            }
            try ConsentEngine(context: context).rematerialise(affectedBy: .purchases(vendorIDs: Set(removed.map(\.vendorID))), in: transaction)
            return removed
        }
        context.database.checkpoint()
        return removed
    }

    /// Applies an annotation edit; tags are added (a leading `-` removes one).
    @discardableResult
    public func annotate(id: String, _ edit: AnnotationEdit) throws -> Purchase {
        if let rating = edit.rating, !(1...5).contains(rating) { throw VaultError.invalidField([.rating], "rating must be from 1 to 5") }
        if edit.giftFor != nil, edit.notGift { throw VaultError.invalidField([.giftFor, .notGift], "use either gift_for or not_gift, not both") }
        for tag in edit.tags where tag.isEmpty || tag.count > 50 { throw VaultError.invalidInput("tags must be 1-50 characters") }
        if let note = edit.note, note.count > Self.maxTextLength { throw VaultError.invalidInput("the note is longer than \(Self.maxTextLength) characters") }
        return try context.write { transaction in
            var purchase = try purchase(id: id, in: transaction)
            if let who = edit.giftFor { purchase.giftFor = who }
            if edit.notGift { purchase.giftFor = nil }
            if let rating = edit.rating { purchase.annotations.rating = rating }
            if let returned = edit.returned { purchase.annotations.returned = returned }
            if let warranty = edit.warrantyUntil { purchase.annotations.warrantyUntil = warranty }
            if let note = edit.note { purchase.annotations.notes = note.isEmpty ? nil : note }
            for tag in edit.tags {
                if tag.hasPrefix("-") {
                    purchase.annotations.tags.removeAll { $0 == String(tag.dropFirst()) }
                } else if !purchase.annotations.tags.contains(tag) {
                    purchase.annotations.tags.append(tag)
                }
            }
            try transaction.purchases.update(id: purchase.id, sealed: try seal(purchase), updatedAt: context.nowMillis)
            try ConsentEngine(context: context).rematerialise(affectedBy: .purchases(vendorIDs: [purchase.vendorID]), in: transaction)
            return purchase
        }
    }

    /// Keyed hash of vendor + order + item, so a re-import is recognised without storing them.
    func dedupeIndex(vendorID: String, order: String, item: String) -> [UInt8] {
        context.keys.blindIndex(
            table: "purchases",
            value: vendorID + "\u{0}" + order.trimmingCharacters(in: .whitespaces) + "\u{0}"
                + item.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// Whether a purchase with this vendor + order + item exists, in the caller's transaction.
    func exists(dedupeIndex: [UInt8], in transaction: StorageTransaction) throws -> Bool {
        try transaction.purchases.exists(dedupeIndex: dedupeIndex)
    }

    /// Stores a purchase in the caller's transaction, without re-materialising.
    func insert(_ purchase: Purchase, dedupe: [UInt8]?, in transaction: StorageTransaction) throws {
        try transaction.purchases.insert(
            id: purchase.id, vendorID: purchase.vendorID, dedupeIndex: dedupe, sealed: try seal(purchase),
            createdAt: Millis.from(purchase.createdAt), updatedAt: context.nowMillis)
    }

    /// Purchases (all, or one vendor's), oldest first unless `sorted` is false, decrypted on
    /// other threads while the next rows are read: on 100k purchases, reading them row by row
    /// through the SQLite wrapper took longer than decrypting them on one core.
    func purchases(vendorID: String?, sorted: Bool = true, in transaction: StorageTransaction) throws -> [Purchase] {
        let keys = context.keys
        let decoded = try transaction.purchases.pipelined(vendorID: vendorID) { rows in
            try rows.map { try keys.openPurchase($0) }
        }.flatMap { $0 }
        return sorted ? decoded.sorted { ($0.date, $0.id) < ($1.date, $1.id) } : decoded
    }

    /// Every purchase decrypted and folded into one accumulator per chunk of rows, which are
    /// returned in order for the caller to merge: reports need only their tallies, so the
    /// purchases themselves are never kept or gathered.
    func fold<A: Sendable>(
        into initial: A, in transaction: StorageTransaction,
        _ fold: @escaping @Sendable (inout A, Purchase) throws -> Void
    ) throws -> [A] {
        let keys = context.keys
        return try transaction.purchases.pipelined(vendorID: nil) { rows in
            var accumulator = initial
            for row in rows { try fold(&accumulator, try keys.openPurchase(row)) }
            return accumulator
        }
    }

    func purchase(id: String, in transaction: StorageTransaction) throws -> Purchase {
        guard let row = try transaction.purchases.row(id: id) else { throw VaultError.notFound(kind: "purchase", id: String(id.prefix(40))) }
        return try decode(row)
    }

    private func seal(_ purchase: Purchase) throws -> [UInt8] {
        try context.keys.sealRecord(purchase, table: "purchases", id: purchase.id)
    }

    private func decode(_ row: SealedRow) throws -> Purchase {
        try context.keys.openPurchase(row)
    }
}
