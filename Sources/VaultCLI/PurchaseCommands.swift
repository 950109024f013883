import ArgumentParser
import Foundation
import VaultCore

/// A purchase as printed by `--json` (without `id` only in an import's dry run, which
/// assigns none).
struct PurchaseJSON: Encodable {
    var id: String?
    var vendor: String
    var item: String
    var date: String
    var price: String?
    var currency: String?
    var order: String?
    var quantity: Int
    var giftFor: String?
    var rating: Int?
    var returned: Bool
    var warrantyUntil: String?
    var notes: String?
    var tags: [String]

    init(_ p: Purchase, vendor: String) {
        id = p.id
        self.vendor = vendor
        item = p.item
        date = p.date.description
        price = p.price?.amount
        currency = p.price?.currency
        order = p.orderNumber
        quantity = p.quantity
        giftFor = p.giftFor
        rating = p.annotations.rating
        returned = p.annotations.returned
        warrantyUntil = p.annotations.warrantyUntil?.description
        notes = p.annotations.notes
        tags = p.annotations.tags
    }

    enum CodingKeys: String, CodingKey {
        case id, vendor, item, date, price, currency, order, quantity, rating, returned, notes, tags
        case giftFor = "gift_for", warrantyUntil = "warranty_until"
    }
}

/// What `--json` prints for a removal: the records as they were.
struct RemovedJSON<Record: Encodable>: Encodable {
    var removed: [Record]
}

func vendorNames(_ vault: Vault) throws -> [String: String] {
    Dictionary(try vault.vendors.all().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
}

struct PurchaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purchase",
        abstract: "Keep your purchase history, with your own annotations.",
        discussion: """
            Adding, annotating or removing a purchase re-materialises the grants that share it \
            (purchases:own, purchases:all).

            Examples:
              vrm purchase add --vendor "Acme Outdoor" --item "Trail shoes" --price 129.90 --currency EUR
              vrm purchase import orders.csv --dry-run
              vrm purchase list
            """,
        subcommands: [Add.self, List.self, Show.self, Annotate.self, Remove.self, Import.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a purchase.",
            discussion: """
                The price is what you paid for the whole line, in an ISO 4217 currency; it is kept \
                exactly (minor units), never as a floating-point number.

                Examples:
                  vrm purchase add --vendor "Acme Outdoor" --item "Trail shoes" \\
                      --date 2026-10-02 --price 129.90 --currency EUR --order A-1001
                  vrm purchase add --vendor "Bolt Bikes" --item "Helmet" --price 59 \\
                      --currency USD --gift-for "my nephew"
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: "The vendor (must be in `vrm vendor list`).") var vendor: String
        @Option(help: "What you bought.") var item: String
        @Option(help: "When (YYYY-MM-DD; default today).") var date: String?
        @Option(help: "What you paid, e.g. 129.90.") var price: String?
        @Option(help: "ISO 4217 code, e.g. EUR.") var currency: String?
        @Option(help: "The vendor's order number.") var order: String?
        @Option(help: "How many.") var quantity = 1
        @Option(help: "Mark it as a gift and say for whom (never shared, only the gift marker).") var giftFor: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let purchase = try newPurchase()
            let vault = try unlock.unlock(location)
            let result = try vault.purchases.add([purchase])
            guard let added = result.added.first else {
                throw CLIError(description: "a purchase with this vendor, order number and item is already recorded")
            }
            try Terminal.report(
                output, PurchaseJSON(added, vendor: try vendorNames(vault)[added.vendorID] ?? vendor),
                text: "Added purchase \(added.id): \(added.item)\(added.price.map { ", \($0.formatted)" } ?? "")\(added.isGift ? " (gift)" : "").")
        }

        func newPurchase() throws -> NewPurchase {
            let day = try date.map { try CalendarDate.parse($0, field: "--date") }
            var money: Money?
            switch (price, currency) {
            case (nil, nil): money = nil
            case (let amount?, let code?): money = try Money.parse(amount, currency: code)
            case (.some, nil): throw CLIError.usage("--price needs --currency (an ISO 4217 code such as EUR)")
            case (nil, .some): throw CLIError.usage("--currency needs --price")
            }
            let purchase = NewPurchase(vendorName: vendor, item: item, date: day, price: money, orderNumber: order, quantity: quantity, giftFor: giftFor)
            try PurchaseLedger.validate(purchase)
            return purchase
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List purchases, newest first.",
            discussion: "Examples:\n  vrm purchase list --vendor \"Acme Outdoor\"\n  vrm purchase list --since 2026-01-01 --no-gifts --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: "Only this vendor's purchases.") var vendor: String?
        @Option(help: "Only purchases on or after this date (YYYY-MM-DD).") var since: String?
        @Flag(inversion: .prefixedNo, help: "Only gifts (--gifts) or no gifts (--no-gifts).") var gifts: Bool?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let sinceDate = try since.map { try CalendarDate.parse($0, field: "--since") }
            let vault = try unlock.unlock(location)
            let purchases = try vault.purchases.list(PurchaseFilter(vendorName: vendor, since: sinceDate, gifts: gifts))
            let names = try vendorNames(vault)
            if output.json {
                print(try Terminal.json(purchases.map { PurchaseJSON($0, vendor: names[$0.vendorID] ?? "") }))
            } else if purchases.isEmpty {
                print("No purchases match.")
            } else {
                print(
                    Terminal.table(
                        ["ID", "DATE", "VENDOR", "ITEM", "QTY", "PRICE", "NOTES"],
                        purchases.map { p in
                            var marks: [String] = []
                            if p.isGift { marks.append("gift") }
                            if p.annotations.returned { marks.append("returned") }
                            if let r = p.annotations.rating { marks.append("\(r)★") }
                            return [
                                p.id, p.date.description, names[p.vendorID] ?? "", p.item, String(p.quantity), p.price?.formatted ?? "-",
                                marks.joined(separator: " "),
                            ]
                        }))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one purchase.", discussion: "Example:\n  vrm purchase show p_abcdefghijklmnop")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The purchase id.") var id: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try unlock.unlock(location)
            let p = try vault.purchases.purchase(id: id)
            let vendor = try vendorNames(vault)[p.vendorID] ?? ""
            if output.json {
                print(try Terminal.json(PurchaseJSON(p, vendor: vendor)))
                return
            }
            print("Purchase \(Terminal.bold(p.id))")
            print("  vendor:    \(vendor)")
            print("  item:      \(p.item) × \(p.quantity)")
            print("  date:      \(p.date)")
            print("  price:     \(p.price?.formatted ?? "-")")
            print("  order:     \(p.orderNumber ?? "-")")
            print("  gift:      \(p.giftFor.map { "yes, for \($0)" } ?? "no")")
            print("  rating:    \(p.annotations.rating.map { "\($0)/5" } ?? "-")")
            print("  returned:  \(p.annotations.returned ? "yes" : "no")")
            print("  warranty:  \(p.annotations.warrantyUntil.map { "until \($0)" } ?? "-")")
            print("  tags:      \(p.annotations.tags.isEmpty ? "-" : p.annotations.tags.joined(separator: ", "))")
            print("  notes:     \(p.annotations.notes ?? "-")")
        }
    }

    struct Annotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add your own annotations: gift, rating, return, warranty, notes, tags.",
            discussion: """
                Annotations are shared only with grants that include purchases.annotations; a gift \
                is always marked as a gift in every share, but never for whom.

                Examples:
                  vrm purchase annotate p_abcdefghijklmnop --rating 4 --tag outdoor \\
                      --tag running
                  vrm purchase annotate p_abcdefghijklmnop --returned --note "too small"
                  vrm purchase annotate p_abcdefghijklmnop --tag -running     # remove a tag
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The purchase id.") var id: String
        @Option(help: "It was a gift for this person.") var giftFor: String?
        @Flag(help: "It was not a gift after all.") var notGift = false
        @Option(help: "Your rating, 1-5.") var rating: Int?
        @Flag(help: "You returned it.") var returned = false
        @Option(help: "Warranty end (YYYY-MM-DD).") var warrantyUntil: String?
        @Option(help: "A free note (empty clears it).") var note: String?
        @Option(name: .customLong("tag"), help: "A tag to add (repeatable; -TAG removes it).") var tags: [String] = []
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let rating, !(1...5).contains(rating) { throw ValidationError("--rating must be from 1 to 5") }
            if giftFor != nil, notGift { throw ValidationError("use either --gift-for or --not-gift, not both") }
            if giftFor == nil, !notGift, rating == nil, !returned, warrantyUntil == nil, note == nil, tags.isEmpty {
                throw ValidationError("nothing to annotate: give --gift-for, --not-gift, --rating, --returned, --warranty-until, --note or --tag")
            }
        }

        func run() throws {
            let warranty = try warrantyUntil.map { try CalendarDate.parse($0, field: "--warranty-until") }
            let vault = try unlock.unlock(location)
            let p = try vault.purchases.annotate(
                id: id,
                AnnotationEdit(
                    giftFor: giftFor, notGift: notGift, rating: rating, returned: returned ? true : nil, warrantyUntil: warranty, note: note, tags: tags))
            try Terminal.report(output, PurchaseJSON(p, vendor: try vendorNames(vault)[p.vendorID] ?? ""), text: "Annotated \(p.id) (\(p.item)).")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove purchases (all named, or none).",
            discussion: """
                Asks to confirm on a terminal; pass --yes otherwise (without a terminal and without \
                --yes nothing is removed). The grants that shared the purchases are re-materialised.

                Examples:
                  vrm purchase remove p_abcdefghijklmnop
                  vrm purchase remove p_abcdefghijklmnop p_bcdefghijklmnopq --yes --json
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The purchase ids.") var ids: [String]
        @Flag(name: .shortAndLong, help: "Do not ask for confirmation.") var yes = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if ids.isEmpty { throw ValidationError("name at least one purchase id (`vrm purchase list` shows them)") }
        }

        func run() throws {
            let vault = try unlock.unlock(location)
            let purchases = try ids.map { try vault.purchases.purchase(id: $0) }
            let names = try vendorNames(vault)
            let listed = purchases.map { "  \($0.id)  \($0.date)  \(names[$0.vendorID] ?? "")  \($0.item)" }.joined(separator: "\n")
            try Terminal.confirmRemoval("Remove \(purchases.count == 1 ? "this purchase" : "these \(purchases.count) purchases")?\n\(listed)\n", yes: yes)
            let removed = try vault.purchases.remove(ids: ids)
            try Terminal.report(
                output, RemovedJSON(removed: removed.map { PurchaseJSON($0, vendor: names[$0.vendorID] ?? "") }),
                text: removed.map { "Removed purchase \($0.id) (\($0.item))." }.joined(separator: "\n"))
        }
    }
}
