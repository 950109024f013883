public import Foundation
public import VaultCrypto

/// Bulk loading for the benchmarks' generated vaults (Benchmarks/Sources/VaultBench): many
/// records in one transaction, through the same sealing, materialisation and audit code as
/// the CLI, without re-materialising after each record. Not part of `vrm`.
@_spi(Benchmark)
public struct BulkLoader {
    let context: VaultContext
    let transaction: StorageTransaction

    /// Stores a vendor; names are unique.
    public func add(_ vendor: Vendor) throws {
        try VendorRegistry(context: context).insert(vendor, in: transaction)
    }

    /// Stores a purchase (recognised again by vendor + order + item when it has an order number).
    public func add(_ purchase: Purchase) throws {
        let ledger = PurchaseLedger(context: context)
        let dedupe = purchase.orderNumber.map { ledger.dedupeIndex(vendorID: purchase.vendorID, order: $0, item: purchase.item) }
        try ledger.insert(purchase, dedupe: dedupe, in: transaction)
    }

    /// Stores a support case.
    public func add(_ supportCase: SupportCase) throws {
        try CaseBook(context: context).insert(supportCase, in: transaction)
    }

    /// Issues a grant to `vendor` (its share materialised, `grant.issued` recorded) and returns
    /// its id and token.
    public func issue(_ request: GrantRequest, to vendor: Vendor, at now: Date) throws -> (id: String, token: GrantToken) {
        let token = try GrantToken.generate()
        let id = Random.identifier(prefix: "gr_")
        try ConsentEngine(context: context).insert(
            id: id, token: token, vendor: vendor, scopes: request.scopes, request: request, now: now,
            in: transaction)
        return (id, token)
    }

    /// Revokes a grant (its share destroyed, `grant.revoked` recorded).
    public func revoke(grantID: String) throws {
        let consent = ConsentEngine(context: context)
        try consent.revoke(try consent.grant(id: grantID, in: transaction), in: transaction)
    }

    /// How many entries the share history holds.
    public func auditEntryCount() throws -> Int {
        try transaction.audit.count()
    }
}

@_spi(Benchmark)
extension Vault {
    /// Runs `body` in one write transaction with a `BulkLoader`, then seals the rows into the
    /// header (the records digest) as every CLI write does.
    public func bulkLoad<T>(_ body: (BulkLoader) throws -> T) throws -> T {
        try database.write { transaction in
            let result = try body(BulkLoader(context: context, transaction: transaction))
            try context.sealRecords(in: transaction)
            return result
        }
    }
}

@_spi(Benchmark)
extension Vendor {
    public init(id: String, name: String, site: String?, stage: RelationshipStage, createdAt: Date) {
        self.init(id: id, name: name, site: site, contact: nil, publicKey: nil, stage: stage, notes: nil, createdAt: createdAt, updatedAt: createdAt)
    }
}
