public import Foundation
import Dispatch
import GRDB
import VaultCrypto

/// The customer's own notes on a purchase; shared only under `purchases.annotations`.
public struct PurchaseAnnotations: Codable, Sendable, Equatable {
    public var rating: Int?
    public var returned: Bool
    public var warrantyUntil: CalendarDate?
    public var notes: String?
    public var tags: [String]

    public init(rating: Int? = nil, returned: Bool = false, warrantyUntil: CalendarDate? = nil, notes: String? = nil, tags: [String] = []) {
        self.rating = rating
        self.returned = returned
        self.warrantyUntil = warrantyUntil
        self.notes = notes
        self.tags = tags
    }

    var isEmpty: Bool { rating == nil && !returned && warrantyUntil == nil && notes == nil && tags.isEmpty }
}

/// One purchase in the customer's record.
public struct Purchase: Codable, Sendable, Equatable {
    public var id: String
    public var vendorID: String
    public var item: String
    public var date: CalendarDate
    public var price: Money?
    public var orderNumber: String?
    public var quantity: Int
    /// Who the gift was for; nil when the customer bought it for themselves.
    public var giftFor: String?
    public var annotations: PurchaseAnnotations
    public var createdAt: Date

    public var isGift: Bool { giftFor != nil }
}

/// What `vrm purchase add` (and an import row) provides.
public struct NewPurchase: Sendable, Equatable {
    public var vendorName: String
    public var item: String
    public var date: CalendarDate?
    public var price: Money?
    public var orderNumber: String?
    public var quantity: Int
    public var giftFor: String?

    public init(vendorName: String, item: String, date: CalendarDate? = nil, price: Money? = nil, orderNumber: String? = nil,
                quantity: Int = 1, giftFor: String? = nil) {
        self.vendorName = vendorName
        self.item = item
        self.date = date
        self.price = price
        self.orderNumber = orderNumber
        self.quantity = quantity
        self.giftFor = giftFor
    }
}

/// Changes to a purchase's annotations; nil leaves a field alone.
public struct AnnotationEdit: Sendable {
    public var giftFor: String?
    public var notGift = false
    public var rating: Int?
    public var returned: Bool?
    public var warrantyUntil: CalendarDate?
    public var note: String?
    public var tags: [String] = []

    public init(giftFor: String? = nil, notGift: Bool = false, rating: Int? = nil, returned: Bool? = nil,
                warrantyUntil: CalendarDate? = nil, note: String? = nil, tags: [String] = []) {
        self.giftFor = giftFor
        self.notGift = notGift
        self.rating = rating
        self.returned = returned
        self.warrantyUntil = warrantyUntil
        self.note = note
        self.tags = tags
    }
}

/// Which purchases `vrm purchase list` shows.
public struct PurchaseFilter: Sendable {
    public var vendorName: String?
    public var since: CalendarDate?
    /// true: only gifts; false: no gifts; nil: both.
    public var gifts: Bool?

    public init(vendorName: String? = nil, since: CalendarDate? = nil, gifts: Bool? = nil) {
        self.vendorName = vendorName
        self.since = since
        self.gifts = gifts
    }
}

extension Vault {
    static let maxTextLength = 2000

    /// Adds purchases in one transaction and re-materialises affected grants once.
    /// Rows whose vendor + order number + item already exist are skipped; returns the ones added.
    @discardableResult
    public func addPurchases(_ items: [NewPurchase]) throws -> (added: [Purchase], skipped: Int) {
        for item in items { try Self.validate(item) }
        return try transaction { db in
            var added: [Purchase] = []
            var skipped = 0
            var vendorIDs: Set<String> = []
            var seen: Set<Data> = []
            for item in items {
                let vendor = try vendor(named: item.vendorName, db)
                let dedupe = item.orderNumber.map { Data(purchaseDedupeIndex(vendorID: vendor.id, order: $0, item: item.item)) }
                if let dedupe {
                    let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM purchases WHERE dedupe_index = ?", arguments: [dedupe]) ?? false
                    if exists || seen.contains(dedupe) {
                        skipped += 1
                        continue
                    }
                    seen.insert(dedupe)
                }
                let purchase = Purchase(
                    id: Random.identifier(prefix: "p_"), vendorID: vendor.id, item: item.item, date: item.date ?? CalendarDate(now),
                    price: item.price, orderNumber: item.orderNumber, quantity: item.quantity, giftFor: item.giftFor,
                    annotations: PurchaseAnnotations(), createdAt: now)
                try insert(purchase, dedupe: dedupe, db)
                added.append(purchase)
                vendorIDs.insert(vendor.id)
            }
            if !vendorIDs.isEmpty { try rematerialise(affectedBy: .purchases(vendorIDs: vendorIDs), db) }
            return (added, skipped)
        }
    }

    func insert(_ purchase: Purchase, dedupe: Data?, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO purchases (id, vendor_id, dedupe_index, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [purchase.id, purchase.vendorID, dedupe, Data(try sealRecord(purchase, table: "purchases", id: purchase.id)),
                        Millis.from(purchase.createdAt), nowMillis])
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

    /// Keyed hash of vendor + order + item, so a re-import is recognised without storing them.
    func purchaseDedupeIndex(vendorID: String, order: String, item: String) -> [UInt8] {
        keys.blindIndex(table: "purchases", value: vendorID + "\u{0}" + order.trimmingCharacters(in: .whitespaces) + "\u{0}"
                        + item.trimmingCharacters(in: .whitespaces).lowercased())
    }

    /// Purchases, newest first.
    public func purchases(_ filter: PurchaseFilter = PurchaseFilter()) throws -> [Purchase] {
        try database.read { db in
            var rows: [Row]
            if let name = filter.vendorName {
                let vendor = try vendor(named: name, db)
                rows = try Row.fetchAll(db, sql: "SELECT id, sealed FROM purchases WHERE vendor_id = ?", arguments: [vendor.id])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT id, sealed FROM purchases")
            }
            var result = try rows.map(decodePurchase)
            if let since = filter.since { result = result.filter { $0.date >= since } }
            if let gifts = filter.gifts { result = result.filter { $0.isGift == gifts } }
            return result.sorted { ($0.date, $0.createdAt) > ($1.date, $1.createdAt) }
        }
    }

    /// Purchases (all, or one vendor's), oldest first unless `sorted` is false. Read through
    /// SQLite's C API and decrypted on other threads while the next rows are read (`pipelined`):
    /// on 100k purchases, GRDB's row cursor took longer than decrypting them on one core.
    func purchases(vendorID: String?, sorted: Bool = true, _ db: Database) throws -> [Purchase] {
        let decoded = try Self.pipelined(try purchaseRows(vendorID: vendorID, db), read: { ($0.text(0), $0.bytes(1)) }) { rows in
            try rows.map { id, box in try self.openRecord(Purchase.self, box, table: "purchases", id: id) }
        }.flatMap { $0 }
        return sorted ? decoded.sorted { ($0.date, $0.id) < ($1.date, $1.id) } : decoded
    }

    /// Every purchase decrypted and folded into one accumulator per chunk of rows, which are
    /// returned in order for the caller to merge: reports need only their tallies, so the
    /// purchases themselves are never kept or gathered.
    func foldPurchases<A: Sendable>(_ db: Database, into initial: A, _ fold: @escaping @Sendable (inout A, Purchase) throws -> Void) throws -> [A] {
        try Self.pipelined(try purchaseRows(vendorID: nil, db), read: { ($0.text(0), $0.bytes(1)) }) { rows in
            var accumulator = initial
            for (id, box) in rows { try fold(&accumulator, try self.openRecord(Purchase.self, box, table: "purchases", id: id)) }
            return accumulator
        }
    }

    /// The statement for the sealed purchase rows (all, or one vendor's): id, sealed.
    private func purchaseRows(vendorID: String?, _ db: Database) throws -> RawStatement {
        guard let vendorID else { return try RawStatement(db, "SELECT id, sealed FROM purchases") }
        let statement = try RawStatement(db, "SELECT id, sealed FROM purchases WHERE vendor_id = ?1")
        statement.bind(1, vendorID)
        return statement
    }

    /// `map` over large inputs split across the machine's cores (in order); small inputs stay serial.
    static func parallelMap<T: Sendable, R: Sendable>(_ input: [T], _ transform: @Sendable (T) throws -> R) throws -> [R] {
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, 8)
        guard input.count >= 4096, workers > 1 else { return try input.map(transform) }
        let chunk = (input.count + workers - 1) / workers
        let results = ParallelResults<[R]>()
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let range = (w * chunk)..<min(input.count, (w + 1) * chunk)
            results.set(w, Result { try input[range].map(transform) })
        }
        return try results.all().flatMap { $0 }
    }

    /// One purchase; throws `notFound`.
    public func purchase(id: String) throws -> Purchase {
        try database.read { db in try purchase(id: id, db) }
    }

    func purchase(id: String, _ db: Database) throws -> Purchase {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, sealed FROM purchases WHERE id = ?", arguments: [id]) else {
            throw VaultError.notFound(kind: "purchase", id: String(id.prefix(40)))
        }
        return try decodePurchase(row)
    }

    /// Removes a purchase and re-materialises the grants that shared it.
    public func removePurchase(id: String) throws {
        try transaction { db in
            let purchase = try purchase(id: id, db)
            try db.execute(sql: "DELETE FROM purchases WHERE id = ?", arguments: [id])
            try rematerialise(affectedBy: .purchases(vendorIDs: [purchase.vendorID]), db)
        }
        database.checkpoint()
    }

    /// Applies an annotation edit; tags are added (a leading `-` removes one).
    @discardableResult
    public func annotatePurchase(id: String, _ edit: AnnotationEdit) throws -> Purchase {
        if let rating = edit.rating, !(1...5).contains(rating) { throw VaultError.invalidInput("--rating must be from 1 to 5") }
        if edit.giftFor != nil, edit.notGift { throw VaultError.invalidInput("use either --gift-for or --not-gift, not both") }
        for tag in edit.tags where tag.isEmpty || tag.count > 50 { throw VaultError.invalidInput("tags must be 1-50 characters") }
        if let note = edit.note, note.count > Self.maxTextLength { throw VaultError.invalidInput("the note is longer than \(Self.maxTextLength) characters") }
        return try transaction { db in
            var purchase = try purchase(id: id, db)
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
            try db.execute(sql: "UPDATE purchases SET sealed = ?, updated_at = ? WHERE id = ?",
                           arguments: [Data(try sealRecord(purchase, table: "purchases", id: purchase.id)), nowMillis, purchase.id])
            try rematerialise(affectedBy: .purchases(vendorIDs: [purchase.vendorID]), db)
            return purchase
        }
    }

    private func decodePurchase(_ row: Row) throws -> Purchase {
        let id: String = row["id"]
        return try openRecord(Purchase.self, row.bytes("sealed"), table: "purchases", id: id)
    }
}
