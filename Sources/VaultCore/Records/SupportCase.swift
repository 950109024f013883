public import Foundation

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

    public init(at: Date, kind: Kind, channel: CaseChannel?, text: String?) {
        self.at = at
        self.kind = kind
        self.channel = channel
        self.text = text
    }
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

    public init(
        id: String, vendorID: String, subject: String, channel: CaseChannel, priority: CasePriority, status: CaseStatus,
        followUp: CalendarDate?, reference: String?, openedAt: Date, resolvedAt: Date?, timeline: [CaseInteraction]
    ) {
        self.id = id
        self.vendorID = vendorID
        self.subject = subject
        self.channel = channel
        self.priority = priority
        self.status = status
        self.followUp = followUp
        self.reference = reference
        self.openedAt = openedAt
        self.resolvedAt = resolvedAt
        self.timeline = timeline
    }

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

    public init(
        vendorName: String, subject: String, channel: CaseChannel = .email, priority: CasePriority = .normal,
        followUp: CalendarDate? = nil, reference: String? = nil
    ) {
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
