import Foundation
import VaultCrypto

/// One purchase an import added (or, in a dry run, would add: its id is then empty), with
/// its vendor's name and the place in the file it came from.
public struct ImportedPurchase: Sendable, Equatable {
    public var purchase: Purchase
    public var vendor: String
    public var location: String
}

/// What an import did, or (dry run) would do.
public struct ImportOutcome: Sendable {
    public var dryRun: Bool
    /// Which source read the file (`csv`, `json`, `amazon`, `schema-org`, `ofx`, `camt053`).
    public var source: String
    /// In file order.
    public var added: [ImportedPurchase]
    /// Vendors created for the import (`createVendors`), as first written in the file.
    public var newVendors: [String]
    /// Rows already in the vault, or earlier in the file (vendor + order number + item).
    public var duplicates: Int
    /// Rows the source left out on purpose.
    public var skipped: PurchaseImport.Skipped
}

extension Portability {
    /// Imports a batch: every row's vendor is looked up (or, with `createVendors`, created);
    /// then, unless the batch or a vendor has a problem — which throws every problem at once,
    /// writing nothing — the rows that are not duplicates are added, together with the new
    /// vendors, in one write transaction that re-materialises the grants they touch once.
    /// Everything is checked in a read transaction first; a dry run stops there, and so does an
    /// import that would add nothing (the file is not written at all). The write transaction
    /// then does the same again, so a vendor or purchase added in between is seen.
    public func importPurchases(_ batch: PurchaseImport.Batch, createVendors: Bool = false, dryRun: Bool) throws -> ImportOutcome {
        var checked = try context.read { transaction in try importPurchases(batch, createVendors: createVendors, write: false, in: transaction) }
        if dryRun || (checked.added.isEmpty && checked.newVendors.isEmpty) {
            checked.dryRun = dryRun
            return checked
        }
        return try context.write { transaction in try importPurchases(batch, createVendors: createVendors, write: true, in: transaction) }
    }

    private func importPurchases(
        _ batch: PurchaseImport.Batch, createVendors: Bool, write: Bool, in transaction: StorageTransaction
    ) throws -> ImportOutcome {
        let registry = VendorRegistry(context: context), ledger = PurchaseLedger(context: context)
        var known: [String: Vendor] = [:]
        var unknown: [String: [PurchaseImport.Row]] = [:]
        var unknownOrder: [String] = []
        for row in (batch.rows + batch.vendorsOfRejectedRows).sorted(by: { $0.ordinal < $1.ordinal }) {
            let key = VendorRegistry.normalisedName(row.purchase.vendorName)
            if known[key] != nil { continue }
            if unknown[key] != nil {
                unknown[key, default: []].append(row)
                continue
            }
            do {
                known[key] = try registry.vendor(named: row.purchase.vendorName, in: transaction)
            } catch VaultError.notFound {
                unknown[key] = [row]
                unknownOrder.append(key)
            }
        }

        var problems = batch.problems
        if !createVendors, !unknownOrder.isEmpty {
            let names = try registry.all(in: transaction).map(\.name)
            for key in unknownOrder {
                guard let rows = unknown[key], let first = rows.first else { continue }
                problems.append(Self.unknownVendor(first.purchase.vendorName, rows: rows, among: names))
            }
        }
        guard problems.isEmpty else { throw ImportProblem.rejection(problems) }

        var ids: [String: (id: String, name: String, isNew: Bool)] = known.mapValues { ($0.id, $0.name, false) }
        var newVendors: [String] = []
        for key in unknownOrder {
            guard let first = unknown[key]?.first else { continue }
            let name = first.purchase.vendorName.trimmingCharacters(in: .whitespacesAndNewlines)
            var id = "new:" + key
            if write {
                let vendor = Vendor(
                    id: context.newRowID(), name: name, site: nil, contact: nil, publicKey: nil, stage: .awareness, notes: nil,
                    createdAt: context.now, updatedAt: context.now)
                try registry.insert(vendor, in: transaction)
                id = vendor.id
            }
            ids[key] = (id, name, true)
            newVendors.append(name)
        }

        var seen: Set<[UInt8]> = []
        var added: [ImportedPurchase] = []
        var duplicates = 0
        var touched: Set<String> = []
        for row in batch.rows {
            let p = row.purchase
            guard let vendor = ids[VendorRegistry.normalisedName(p.vendorName)] else { continue }
            let dedupe = p.orderNumber.map { ledger.dedupeIndex(vendorID: vendor.id, order: $0, item: p.item) }
            if let dedupe {
                let recorded = vendor.isNew ? false : try ledger.exists(dedupeIndex: dedupe, in: transaction)
                if recorded || !seen.insert(dedupe).inserted {
                    duplicates += 1
                    continue
                }
            }
            let purchase = Purchase(
                id: write ? Random.identifier(prefix: "p_") : "", vendorID: write ? vendor.id : "", item: p.item, date: p.date ?? CalendarDate(context.now),
                price: p.price, orderNumber: p.orderNumber, quantity: p.quantity, giftFor: p.giftFor, annotations: PurchaseAnnotations(),
                createdAt: context.now)
            if write {
                try ledger.insert(purchase, dedupe: dedupe, in: transaction)
                touched.insert(vendor.id)
            }
            added.append(ImportedPurchase(purchase: purchase, vendor: vendor.name, location: row.location))
        }
        if !touched.isEmpty {
            try ConsentEngine(context: context).rematerialise(affectedBy: .purchases(vendorIDs: touched), in: transaction)
        }
        return ImportOutcome(
            dryRun: !write, source: batch.source, added: added, newVendors: newVendors, duplicates: duplicates, skipped: batch.skipped)
    }

    /// One problem per unknown vendor, at its first row, naming a few more rows.
    static func unknownVendor(_ name: String, rows: [PurchaseImport.Row], among names: [String]) -> ImportProblem {
        let shown = ImportProblem.shown(name.trimmingCharacters(in: .whitespacesAndNewlines), 60)
        let advice = "; add it with `vrm vendor add`, or pass create_vendors"
        let hint = NearNames.hint(name.trimmingCharacters(in: .whitespacesAndNewlines), among: names)
        guard let first = rows.first, !first.vendorFromOption else {
            return ImportProblem(location: "", field: nil, message: "unknown vendor \"\(shown)\" (given with default_vendor)\(hint)" + advice, ordinal: -1)
        }
        var also = ""
        if rows.count > 1 {
            let more = rows.dropFirst()
            also = " (also at " + more.prefix(3).map(\.location).joined(separator: ", ") + (more.count > 3 ? " and \(more.count - 3) more rows" : "") + ")"
        }
        return ImportProblem(
            location: first.location, field: first.vendorLabel, message: "unknown vendor \"\(shown)\"\(also)\(hint)" + advice, ordinal: first.ordinal)
    }
}
