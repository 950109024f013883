import Foundation
import VaultCore

/// What `vrm purchase import` prints: a summary (and for a dry run, a table of what would be
/// added), or with `--json` one document (`Specs/import.md` §9).
enum ImportReport {
    /// `New vendors: …`, the dry run's table, then the summary line.
    static func text(_ outcome: ImportOutcome) -> String {
        var lines: [String] = []
        if !outcome.newVendors.isEmpty {
            lines.append(
                (outcome.dryRun ? "New vendors (would be added): " : "New vendors: ") + outcome.newVendors.map { cell($0, 60) }.joined(separator: ", "))
        }
        if outcome.dryRun, !outcome.added.isEmpty {
            lines.append(
                Terminal.table(
                    ["DATE", "VENDOR", "ITEM", "QTY", "PRICE", "ORDER"],
                    outcome.added.map { entry in
                        let p = entry.purchase
                        return [
                            p.date.description, cell(entry.vendor, 30), cell(p.item, 50) + (p.isGift ? " (gift)" : ""), String(p.quantity),
                            p.price?.formatted ?? "-", cell(p.orderNumber ?? "-", 30),
                        ]
                    }))
        }
        lines.append(summary(outcome))
        return lines.joined(separator: "\n")
    }

    /// `Imported 3 purchases; 1 already recorded (skipped); 2 cancelled left out.`
    static func summary(_ outcome: ImportOutcome) -> String {
        let count = outcome.added.count
        var text = "\(outcome.dryRun ? "Would import" : "Imported") \(count) purchase\(count == 1 ? "" : "s"); \(outcome.duplicates) already recorded (skipped)"
        let s = outcome.skipped
        for (n, what) in [
            (s.cancelled, "cancelled"), (s.credits, s.credits == 1 ? "credit" : "credits"), (s.reversals, s.reversals == 1 ? "reversal" : "reversals"),
            (s.pending, "pending"),
        ] where n > 0 {
            text += "; \(n) \(what) left out"
        }
        if s.filesWithoutOrder > 0 { text += "; \(s.filesWithoutOrder) file\(s.filesWithoutOrder == 1 ? "" : "s") without an order" }
        return text + "." + (outcome.dryRun ? " Nothing was written." : "")
    }

    /// Text from the file for the terminal, as problems quote it (`ImportProblem.shown`).
    static func cell(_ text: String, _ limit: Int) -> String { ImportProblem.shown(text, limit) }

    /// `{"dry_run", "source", "added", "new_vendors", "duplicates", "skipped"}`.
    struct JSONDocument: Encodable {
        var dryRun: Bool
        var source: String
        var added: [PurchaseJSON]
        var newVendors: [String]
        var duplicates: Int
        var skipped: Skipped

        init(_ outcome: ImportOutcome) {
            dryRun = outcome.dryRun
            source = outcome.source
            added = outcome.added.map {
                var purchase = PurchaseJSON($0.purchase, vendor: $0.vendor)
                if outcome.dryRun { purchase.id = nil }
                return purchase
            }
            newVendors = outcome.newVendors
            duplicates = outcome.duplicates
            skipped = Skipped(outcome.skipped)
        }

        enum CodingKeys: String, CodingKey {
            case source, added, duplicates, skipped
            case dryRun = "dry_run", newVendors = "new_vendors"
        }
    }

    struct Skipped: Encodable {
        var cancelled, credits, reversals, pending, filesWithoutOrder: Int

        init(_ s: PurchaseImport.Skipped) {
            cancelled = s.cancelled
            credits = s.credits
            reversals = s.reversals
            pending = s.pending
            filesWithoutOrder = s.filesWithoutOrder
        }

        enum CodingKeys: String, CodingKey {
            case cancelled, credits, reversals, pending
            case filesWithoutOrder = "files_without_order"
        }
    }
}
