import Foundation
import VaultCrypto

/// The customer's side of support cases: one sealed row per case, with its whole timeline.
/// Changing a case re-materialises the grants that share its vendor's cases.
public struct CaseBook: Sendable {
    let context: VaultContext

    /// Opens a case with its first timeline entry.
    @discardableResult
    public func open(_ new: NewCase) throws -> SupportCase {
        guard !new.subject.trimmingCharacters(in: .whitespaces).isEmpty, new.subject.count <= PurchaseLedger.maxTextLength else {
            throw VaultError.invalidInput("the subject must be 1-\(PurchaseLedger.maxTextLength) characters")
        }
        return try context.write { transaction in
            let vendor = try VendorRegistry(context: context).vendor(named: new.vendorName, in: transaction)
            let opened = context.now
            let supportCase = SupportCase(
                id: Random.identifier(prefix: "c_"), vendorID: vendor.id, subject: new.subject, channel: new.channel,
                priority: new.priority, status: .open, followUp: new.followUp, reference: new.reference, openedAt: opened,
                resolvedAt: nil, timeline: [CaseInteraction(at: opened, kind: .opened, channel: new.channel, text: nil)])
            try insert(supportCase, in: transaction)
            try ConsentEngine(context: context).rematerialise(affectedBy: .cases(vendorID: vendor.id), in: transaction)
            return supportCase
        }
    }

    /// Logs, escalates, resolves or reopens a case; illegal transitions are a conflict.
    @discardableResult
    public func update(id: String, _ action: CaseAction) throws -> SupportCase {
        if case .log(let text, _) = action, text.trimmingCharacters(in: .whitespaces).isEmpty || text.count > PurchaseLedger.maxTextLength {
            throw VaultError.invalidInput("the log text must be 1-\(PurchaseLedger.maxTextLength) characters")
        }
        return try context.write { transaction in
            var c = try supportCase(id: id, in: transaction)
            try Self.apply(action, to: &c, at: context.now)
            try transaction.cases.update(id: c.id, sealed: try seal(c), updatedAt: context.nowMillis)
            try ConsentEngine(context: context).rematerialise(affectedBy: .cases(vendorID: c.vendorID), in: transaction)
            return c
        }
    }

    /// The case's state machine: open → escalated → resolved/closed, and back with reopen.
    static func apply(_ action: CaseAction, to c: inout SupportCase, at: Date) throws {
        switch action {
        case .log(let text, let channel):
            c.timeline.append(CaseInteraction(at: at, kind: .note, channel: channel, text: text))
        case .escalate:
            guard c.status == .open else { throw VaultError.conflict("case \(c.id) is \(c.status.rawValue); only an open case can be escalated") }
            c.status = .escalated
            c.timeline.append(CaseInteraction(at: at, kind: .escalated, channel: nil, text: nil))
        case .resolve(let note):
            guard c.status.isOpen else { throw VaultError.conflict("case \(c.id) is already \(c.status.rawValue)") }
            c.status = .resolved
            c.resolvedAt = at
            c.timeline.append(CaseInteraction(at: at, kind: .resolved, channel: nil, text: note))
        case .close(let note):
            guard c.status != .closed else { throw VaultError.conflict("case \(c.id) is already closed") }
            c.status = .closed
            c.resolvedAt = c.resolvedAt ?? at
            c.timeline.append(CaseInteraction(at: at, kind: .closed, channel: nil, text: note))
        case .reopen:
            guard !c.status.isOpen else { throw VaultError.conflict("case \(c.id) is already open") }
            c.status = .open
            c.resolvedAt = nil
            c.timeline.append(CaseInteraction(at: at, kind: .reopened, channel: nil, text: nil))
        }
    }

    /// Removes a case and re-materialises the grants that shared it.
    public func remove(id: String) throws {
        _ = try remove(ids: [id])
    }

    /// Removes several cases (with their timelines) in one transaction, all or none.
    @discardableResult
    public func remove(ids: [String]) throws -> [SupportCase] {
        let removed = try context.write { transaction -> [SupportCase] in
            var removed: [SupportCase] = []
            for id in Set(ids).sorted() {
                let c = try supportCase(id: id, in: transaction)
                try transaction.cases.delete(id: id)
                removed.append(c)
            }
            let consent = ConsentEngine(context: context)
            for vendorID in Set(removed.map(\.vendorID)).sorted() {
                try consent.rematerialise(affectedBy: .cases(vendorID: vendorID), in: transaction)
            }
            return removed
        }
        context.database.checkpoint()
        return removed
    }

    /// Cases, newest first, optionally for one vendor.
    public func list(vendorName: String? = nil) throws -> [SupportCase] {
        try context.read { transaction in
            let vendorID = try vendorName.map { try VendorRegistry(context: context).vendor(named: $0, in: transaction).id }
            return try cases(vendorID: vendorID, in: transaction).sorted { $0.openedAt > $1.openedAt }
        }
    }

    /// One case; throws `notFound`.
    public func supportCase(id: String) throws -> SupportCase {
        try context.read { transaction in try supportCase(id: id, in: transaction) }
    }

    /// Cases (all, or one vendor's), oldest first, in the caller's transaction.
    func cases(vendorID: String?, in transaction: StorageTransaction) throws -> [SupportCase] {
        try decode(try transaction.cases.rows(vendorID: vendorID))
    }

    /// Every case (as `cases(vendorID: nil, in:)`), decrypted and decoded on another thread
    /// while `meanwhile` runs on this one: the vendor scorecards tally the purchases meanwhile,
    /// where the cases' JSON had been a serial step after them.
    func allCases<R>(in transaction: StorageTransaction, meanwhile: () throws -> R) throws -> (R, [SupportCase]) {
        let sealed = try transaction.cases.rows(vendorID: nil)
        return try SQLiteReads.overlapping({ try self.decode(sealed) }, meanwhile: meanwhile)
    }

    /// Stores a case in the caller's transaction, without re-materialising.
    func insert(_ c: SupportCase, in transaction: StorageTransaction) throws {
        try transaction.cases.insert(
            id: c.id, vendorID: c.vendorID, sealed: try seal(c), createdAt: Millis.from(c.openedAt),
            updatedAt: context.nowMillis)
    }

    func supportCase(id: String, in transaction: StorageTransaction) throws -> SupportCase {
        guard let row = try transaction.cases.row(id: id) else { throw VaultError.notFound(kind: "case", id: String(id.prefix(40))) }
        return try context.keys.openCase(row)
    }

    /// Decrypted and decoded, oldest first.
    private func decode(_ rows: [SealedRow]) throws -> [SupportCase] {
        try rows.map { try context.keys.openCase($0) }
            .sorted { ($0.openedAt, $0.id) < ($1.openedAt, $1.id) }
    }

    private func seal(_ c: SupportCase) throws -> [UInt8] {
        try context.keys.sealJSON(c, table: "cases", id: c.id)
    }
}
