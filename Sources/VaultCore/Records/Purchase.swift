public import Foundation

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

    public init(
        id: String, vendorID: String, item: String, date: CalendarDate, price: Money?, orderNumber: String?, quantity: Int,
        giftFor: String?, annotations: PurchaseAnnotations, createdAt: Date
    ) {
        self.id = id
        self.vendorID = vendorID
        self.item = item
        self.date = date
        self.price = price
        self.orderNumber = orderNumber
        self.quantity = quantity
        self.giftFor = giftFor
        self.annotations = annotations
        self.createdAt = createdAt
    }

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

    public init(
        vendorName: String, item: String, date: CalendarDate? = nil, price: Money? = nil, orderNumber: String? = nil,
        quantity: Int = 1, giftFor: String? = nil
    ) {
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

    public init(
        giftFor: String? = nil, notGift: Bool = false, rating: Int? = nil, returned: Bool? = nil,
        warrantyUntil: CalendarDate? = nil, note: String? = nil, tags: [String] = []
    ) {
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
