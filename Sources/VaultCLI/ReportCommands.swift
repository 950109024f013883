public import ArgumentParser
import Foundation
import VaultCore

extension SpendingGrouping: ExpressibleByArgument {}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports on your side of the relationship: spending, vendor scorecards, exposure.",
        discussion: """
            Examples:
              vrm report spending --by month --since 2026-01-01
              vrm report vendors
              vrm report exposure
            """,
        subcommands: [Spending.self, Vendors.self, Exposure.self])

    struct Spending: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Spending per vendor or per month, per currency (never summed across currencies).",
            discussion: "Returned purchases are left out.\n\nExamples:\n  vrm report spending --by month --since 2026-01-01\n  vrm report spending --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: "vendor or month.") var by: SpendingGrouping = .vendor
        @Option(help: "Only purchases on or after this date (YYYY-MM-DD).") var since: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let sinceDate = try since.map { try CalendarDate.parse($0, field: "--since") }
            let rows = try unlock.unlock(location).reports.spending(by: by, since: sinceDate)
            if output.json { return print(try Terminal.json(rows)) }
            if rows.isEmpty { return print("No priced purchases match.") }
            print(
                Terminal.table(
                    [by == .vendor ? "VENDOR" : "MONTH", "CURRENCY", "TOTAL", "PURCHASES"],
                    rows.map { [$0.group, $0.currency, $0.total, String($0.purchases)] }))
        }
    }

    struct Vendors: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A scorecard per vendor: stage, purchases, spend, returns, cases, median days to resolve.",
            discussion: "Example:\n  vrm report vendors --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let rows = try unlock.unlock(location).reports.vendorScorecards()
            if output.json { return print(try Terminal.json(rows)) }
            if rows.isEmpty { return print("No vendors yet.") }
            print(
                Terminal.table(
                    ["VENDOR", "STAGE", "PURCHASES", "SPEND", "RETURNS", "OPEN", "RESOLVED", "MEDIAN DAYS"],
                    rows.map { r in
                        [
                            r.vendor, r.stage, String(r.purchases), r.spend.isEmpty ? "-" : r.spend.joined(separator: ", "), String(r.returns),
                            String(r.openCases), String(r.resolvedCases), r.medianDaysToResolve.map { String(format: "%.1f", $0) } ?? "-",
                        ]
                    }))
        }
    }

    struct Exposure: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Which vendor can read what right now, through which active grant.",
            discussion: "Example:\n  vrm report exposure")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let rows = try unlock.unlock(location).reports.exposure()
            if output.json { return print(try Terminal.json(rows)) }
            if rows.isEmpty { return print("No active grants: no vendor can read anything.") }
            print(
                Terminal.table(
                    ["VENDOR", "GRANT", "PURPOSE", "EXPIRES", "USES LEFT", "CAN READ"],
                    rows.map { r in
                        [
                            r.vendor, r.grantID, r.purpose, r.expiresAt.flatMap(Timestamp.parse).map(Terminal.shortTime) ?? r.expiresAt ?? "never",
                            r.usesLeft.map(String.init) ?? "∞",
                            r.readable.isEmpty ? "(nothing set yet)" : r.readable.joined(separator: ", "),
                        ]
                    }))
        }
    }
}
