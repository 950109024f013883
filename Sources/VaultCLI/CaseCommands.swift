public import ArgumentParser
import Foundation
import VaultCore

extension CaseChannel: ExpressibleByArgument {}
extension CasePriority: ExpressibleByArgument {}

/// A case as printed by `--json`.
struct CaseJSON: Encodable {
    struct Entry: Encodable {
        var at: String
        var kind: String
        var channel: String?
        var text: String?
    }

    var id: String
    var vendor: String
    var subject: String
    var channel: String
    var priority: String
    var status: String
    var followUp: String?
    var reference: String?
    var openedAt: String
    var resolvedAt: String?
    var overdue: Bool
    var timeline: [Entry]

    init(_ c: SupportCase, vendor: String, today: CalendarDate) {
        id = c.id
        self.vendor = vendor
        subject = c.subject
        channel = c.channel.rawValue
        priority = c.priority.rawValue
        status = c.status.rawValue
        followUp = c.followUp?.description
        reference = c.reference
        openedAt = Timestamp.string(c.openedAt)
        resolvedAt = c.resolvedAt.map(Timestamp.string)
        overdue = c.isOverdue(today: today)
        timeline = c.timeline.map { Entry(at: Timestamp.string($0.at), kind: $0.kind.rawValue, channel: $0.channel?.rawValue, text: $0.text) }
    }

    enum CodingKeys: String, CodingKey {
        case id, vendor, subject, channel, priority, status, reference, overdue, timeline
        case followUp = "follow_up", openedAt = "opened_at", resolvedAt = "resolved_at"
    }
}

/// The vault and case a state-changing case command acts on.
struct CaseTarget: ParsableArguments {
    @OptionGroup var location: VaultLocation
    @OptionGroup var unlock: UnlockOptions
    @Argument(help: "The case id.") var id: String
    @OptionGroup var output: OutputOptions

    func apply(_ action: CaseAction, done: String) throws {
        let vault = try unlock.unlock(location)
        let c = try vault.cases.update(id: id, action)
        try Terminal.report(output, CaseJSON(c, vendor: try vendorNames(vault)[c.vendorID] ?? "", today: CalendarDate(Date())), text: "\(done) \(id).")
    }
}

struct CaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "Keep your side of support cases: subject, channel, priority, status and a timeline.",
        discussion: """
            Status: open → escalated → resolved or closed (reopen goes back to open). Shared only \
            through cases:own.

            Examples:
              vrm case open --vendor "Acme Outdoor" --subject "Sole came off" --priority high
              vrm case log c_abcdefghijklmnop "Called; they will send a replacement"
              vrm case resolve c_abcdefghijklmnop --note "Replacement arrived"
            """,
        subcommands: [Open.self, Log.self, Escalate.self, Resolve.self, Close.self, Reopen.self, List.self, Show.self, Remove.self])

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a case.",
            discussion:
                "Example:\n  vrm case open --vendor \"Acme Outdoor\" --subject \"Sole came off\" --channel email --priority high --follow-up 2026-12-01 --ref ACME-4471"
        )
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: "The vendor.") var vendor: String
        @Option(help: "What it is about.") var subject: String
        @Option(help: "email, phone, chat, store, web or social.") var channel: CaseChannel = .email
        @Option(help: "low, normal, high or urgent.") var priority: CasePriority = .normal
        @Option(help: "When to chase it (YYYY-MM-DD).") var followUp: String?
        @Option(help: "The vendor's ticket reference.") var ref: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let follow = try followUp.map { try CalendarDate.parse($0, field: "--follow-up") }
            let vault = try unlock.unlock(location)
            let c = try vault.cases.open(
                NewCase(
                    vendorName: vendor, subject: subject, channel: channel, priority: priority,
                    followUp: follow, reference: ref))
            try Terminal.report(
                output, CaseJSON(c, vendor: try vendorNames(vault)[c.vendorID] ?? vendor, today: CalendarDate(Date())), text: "Opened case \(c.id).")
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log a dated interaction on a case's timeline.",
            discussion: "Example:\n  vrm case log c_abcdefghijklmnop \"Called; they will send a replacement\" --channel phone")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The case id.") var id: String
        @Argument(help: "What happened.") var text: String
        @Option(help: "How it happened.") var channel: CaseChannel?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try unlock.unlock(location)
            let c = try vault.cases.update(id: id, .log(text, channel: channel))
            try Terminal.report(output, CaseJSON(c, vendor: try vendorNames(vault)[c.vendorID] ?? "", today: CalendarDate(Date())), text: "Logged on \(id).")
        }
    }

    struct Escalate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark an open case as escalated.", discussion: "Example:\n  vrm case escalate c_abcdefghijklmnop")
        @OptionGroup var target: CaseTarget

        func run() throws {
            try target.apply(.escalate, done: "Escalated")
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve a case.", discussion: "Example:\n  vrm case resolve c_abcdefghijklmnop --note \"Replacement arrived\"")
        @OptionGroup var target: CaseTarget
        @Option(help: "How it ended.") var note: String?

        func run() throws {
            try target.apply(.resolve(note: note), done: "Resolved")
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a case for good (it can still be reopened).",
            discussion: "Example:\n  vrm case close c_abcdefghijklmnop --note \"Gave up; bought elsewhere\"")
        @OptionGroup var target: CaseTarget
        @Option(help: "Why.") var note: String?

        func run() throws {
            try target.apply(.close(note: note), done: "Closed")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove cases with their timelines (all named, or none).",
            discussion: """
                Asks to confirm on a terminal; pass --yes otherwise (without a terminal and without \
                --yes nothing is removed).

                Examples:
                  vrm case remove c_abcdefghijklmnop
                  vrm case remove c_abcdefghijklmnop c_bcdefghijklmnopq --yes
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The case ids.") var ids: [String]
        @Flag(name: .shortAndLong, help: "Do not ask for confirmation.") var yes = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if ids.isEmpty { throw ValidationError("name at least one case id (`vrm case list` shows them)") }
        }

        func run() throws {
            let vault = try unlock.unlock(location)
            let cases = try ids.map { try vault.cases.supportCase(id: $0) }
            let names = try vendorNames(vault)
            let listed = cases.map {
                "  \($0.id)  \(names[$0.vendorID] ?? "")  \($0.subject) (\($0.timeline.count) timeline entr\($0.timeline.count == 1 ? "y" : "ies"))"
            }
            .joined(separator: "\n")
            try Terminal.confirmRemoval(
                "Remove \(cases.count == 1 ? "this case" : "these \(cases.count) cases") and every timeline entry?\n\(listed)\n", yes: yes)
            let removed = try vault.cases.remove(ids: ids)
            let today = CalendarDate(Date())
            try Terminal.report(
                output, RemovedJSON(removed: removed.map { CaseJSON($0, vendor: names[$0.vendorID] ?? "", today: today) }),
                text: removed.map { "Removed case \($0.id) (\($0.subject))." }.joined(separator: "\n"))
        }
    }

    struct Reopen: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reopen a resolved case.", discussion: "Example:\n  vrm case reopen c_abcdefghijklmnop")
        @OptionGroup var target: CaseTarget

        func run() throws {
            try target.apply(.reopen, done: "Reopened")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List cases, newest first.",
            discussion: "Examples:\n  vrm case list --open\n  vrm case list --overdue --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: "Only this vendor's cases.") var vendor: String?
        @Flag(help: "Only open or escalated cases.") var open = false
        @Flag(help: "Only open cases whose follow-up date has passed.") var overdue = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try unlock.unlock(location)
            let today = CalendarDate(Date())
            var cases = try vault.cases.list(vendorName: vendor)
            if open { cases = cases.filter(\.status.isOpen) }
            if overdue { cases = cases.filter { $0.isOverdue(today: today) } }
            let names = try vendorNames(vault)
            if output.json {
                print(try Terminal.json(cases.map { CaseJSON($0, vendor: names[$0.vendorID] ?? "", today: today) }))
            } else if cases.isEmpty {
                print("No cases match.")
            } else {
                print(
                    Terminal.table(
                        ["ID", "VENDOR", "STATUS", "PRIORITY", "FOLLOW-UP", "SUBJECT"],
                        cases.map { c in
                            [
                                c.id, names[c.vendorID] ?? "", c.status.rawValue, c.priority.rawValue,
                                (c.followUp?.description ?? "-") + (c.isOverdue(today: today) ? " (overdue)" : ""), c.subject,
                            ]
                        }))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a case with its timeline.", discussion: "Example:\n  vrm case show c_abcdefghijklmnop")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The case id.") var id: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try unlock.unlock(location)
            let c = try vault.cases.supportCase(id: id)
            let vendor = try vendorNames(vault)[c.vendorID] ?? ""
            let today = CalendarDate(Date())
            if output.json {
                print(try Terminal.json(CaseJSON(c, vendor: vendor, today: today)))
                return
            }
            print("Case \(Terminal.bold(c.id)): \(c.subject)")
            print("  vendor:    \(vendor)\(c.reference.map { " (ticket \($0))" } ?? "")")
            print("  status:    \(c.status.rawValue), priority \(c.priority.rawValue), via \(c.channel.rawValue)")
            print("  follow-up: \(c.followUp?.description ?? "-")\(c.isOverdue(today: today) ? " (overdue)" : "")")
            print("  timeline:")
            for e in c.timeline {
                print("    \(Terminal.time(e.at))  \(e.kind.rawValue)\(e.channel.map { " (\($0.rawValue))" } ?? "")\(e.text.map { ": \($0)" } ?? "")")
            }
        }
    }
}
