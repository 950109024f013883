public import Foundation
import GRDB
import VaultCrypto

/// How the customer dealt with the vendor.
public enum CaseChannel: String, Codable, Sendable, CaseIterable {
    case email, phone, chat, store, web, social
}

public enum CasePriority: String, Codable, Sendable, CaseIterable {
    case low, normal, high, urgent
}

/// open → escalated → resolved/closed; `reopen` goes back to open.
public enum CaseStatus: String, Codable, Sendable, CaseIterable {
    case open, escalated, resolved, closed

    public var isOpen: Bool { self == .open || self == .escalated }
}

/// One dated entry on a case's timeline.
public struct CaseInteraction: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case opened, note, escalated, resolved, closed, reopened
    }

    public var at: Date
    public var kind: Kind
    public var channel: CaseChannel?
    public var text: String?
}

/// The customer's side of a support case.
public struct SupportCase: Codable, Sendable, Equatable {
    public var id: String
    public var vendorID: String
    public var subject: String
    public var channel: CaseChannel
    public var priority: CasePriority
    public var status: CaseStatus
    public var followUp: CalendarDate?
    /// The vendor's own ticket reference.
    public var reference: String?
    public var openedAt: Date
    public var resolvedAt: Date?
    public var timeline: [CaseInteraction]

    /// Open with a follow-up date before `today`.
    public func isOverdue(today: CalendarDate) -> Bool {
        status.isOpen && (followUp.map { $0 < today } ?? false)
    }
}

/// What `vrm case open` provides.
public struct NewCase: Sendable {
    public var vendorName: String
    public var subject: String
    public var channel: CaseChannel
    public var priority: CasePriority
    public var followUp: CalendarDate?
    public var reference: String?

    public init(vendorName: String, subject: String, channel: CaseChannel = .email, priority: CasePriority = .normal,
                followUp: CalendarDate? = nil, reference: String? = nil) {
        self.vendorName = vendorName
        self.subject = subject
        self.channel = channel
        self.priority = priority
        self.followUp = followUp
        self.reference = reference
    }
}

/// A change of a case's state.
public enum CaseAction: Sendable {
    case log(String, channel: CaseChannel?)
    case escalate
    case resolve(note: String?)
    /// Closes a case for good (from any state but closed); `reopen` still works.
    case close(note: String?)
    case reopen
}

extension Vault {
    /// Opens a case with its first timeline entry.
    @discardableResult
    public func openCase(_ new: NewCase) throws -> SupportCase {
        guard !new.subject.trimmingCharacters(in: .whitespaces).isEmpty, new.subject.count <= Self.maxTextLength else {
            throw VaultError.invalidInput("the subject must be 1-\(Self.maxTextLength) characters")
        }
        return try transaction { db in
            let vendor = try vendor(named: new.vendorName, db)
            let opened = now
            let supportCase = SupportCase(
                id: Random.identifier(prefix: "c_"), vendorID: vendor.id, subject: new.subject, channel: new.channel,
                priority: new.priority, status: .open, followUp: new.followUp, reference: new.reference, openedAt: opened,
                resolvedAt: nil, timeline: [CaseInteraction(at: opened, kind: .opened, channel: new.channel, text: nil)])
            try insert(supportCase, db)
            try rematerialise(affectedBy: .cases(vendorID: vendor.id), db)
            return supportCase
        }
    }

    func insert(_ c: SupportCase, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO cases (id, vendor_id, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [c.id, c.vendorID, Data(try sealJSON(c, table: "cases", id: c.id)), Millis.from(c.openedAt), nowMillis])
    }

    /// Logs, escalates, resolves or reopens a case; illegal transitions are a conflict.
    @discardableResult
    public func updateCase(id: String, _ action: CaseAction) throws -> SupportCase {
        if case .log(let text, _) = action, text.trimmingCharacters(in: .whitespaces).isEmpty || text.count > Self.maxTextLength {
            throw VaultError.invalidInput("the log text must be 1-\(Self.maxTextLength) characters")
        }
        return try transaction { db in
            var c = try supportCase(id: id, db)
            let at = now
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
            try db.execute(sql: "UPDATE cases SET sealed = ?, updated_at = ? WHERE id = ?",
                           arguments: [Data(try sealJSON(c, table: "cases", id: c.id)), nowMillis, c.id])
            try rematerialise(affectedBy: .cases(vendorID: c.vendorID), db)
            return c
        }
    }

    /// Removes a case and re-materialises the grants that shared it.
    public func removeCase(id: String) throws {
        try transaction { db in
            let c = try supportCase(id: id, db)
            try db.execute(sql: "DELETE FROM cases WHERE id = ?", arguments: [id])
            try rematerialise(affectedBy: .cases(vendorID: c.vendorID), db)
        }
        database.checkpoint()
    }

    /// Cases, newest first, optionally for one vendor.
    public func cases(vendorName: String? = nil) throws -> [SupportCase] {
        try database.read { db in
            let vendorID = try vendorName.map { try vendor(named: $0, db).id }
            return try cases(vendorID: vendorID, db).sorted { $0.openedAt > $1.openedAt }
        }
    }

    func cases(vendorID: String?, _ db: Database) throws -> [SupportCase] {
        try decodeCases(try sealedCases(vendorID: vendorID, db))
    }

    /// The sealed case rows (all, or one vendor's) as plain values: id, sealed.
    private func sealedCases(vendorID: String?, _ db: Database) throws -> [(id: String, box: [UInt8])] {
        let rows = try vendorID.map { try Row.fetchAll(db, sql: "SELECT id, sealed FROM cases WHERE vendor_id = ?", arguments: [$0]) }
            ?? Row.fetchAll(db, sql: "SELECT id, sealed FROM cases")
        return rows.map { ($0["id"], $0.bytes("sealed")) }
    }

    /// Decrypted and decoded, oldest first.
    private func decodeCases(_ sealed: [(id: String, box: [UInt8])]) throws -> [SupportCase] {
        try sealed.map { try decodeCase(id: $0.id, box: $0.box) }.sorted { ($0.openedAt, $0.id) < ($1.openedAt, $1.id) }
    }

    /// Every case (as `cases(vendorID: nil, db)`), decrypted and decoded on another thread
    /// while `meanwhile` runs on this one: the vendor scorecards tally the purchases meanwhile,
    /// where the cases' JSON had been a serial step after them.
    func allCases<R>(_ db: Database, meanwhile: () throws -> R) throws -> (R, [SupportCase]) {
        let sealed = try sealedCases(vendorID: nil, db)
        let decoded = ParallelResults<[SupportCase]>()
        let group = DispatchGroup()
        DispatchQueue.global(qos: .userInitiated).async(group: group) {
            decoded.set(0, Result { try self.decodeCases(sealed) })
        }
        let value: R
        do {
            value = try meanwhile()
        } catch {
            group.wait()
            throw error
        }
        group.wait()
        return (value, try decoded.all().first ?? [])
    }

    /// One case; throws `notFound`.
    public func supportCase(id: String) throws -> SupportCase {
        try database.read { db in try supportCase(id: id, db) }
    }

    func supportCase(id: String, _ db: Database) throws -> SupportCase {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, sealed FROM cases WHERE id = ?", arguments: [id]) else {
            throw VaultError.notFound(kind: "case", id: String(id.prefix(40)))
        }
        return try decodeCase(id: row["id"], box: row.bytes("sealed"))
    }

    private func decodeCase(id: String, box: [UInt8]) throws -> SupportCase {
        try openJSON(SupportCase.self, box, table: "cases", id: id)
    }
}
