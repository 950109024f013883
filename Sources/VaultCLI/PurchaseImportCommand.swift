import ArgumentParser
import Foundation
import VaultCore

extension PurchaseCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import purchases from CSV or JSON (all or nothing).",
            discussion: """
                Columns (CSV header / JSON keys): \(PurchaseImport.columns.joined(separator: ", ")); item and \
                date are required, vendor too unless --vendor is given. Any bad row rejects the whole \
                file with its line number. A row whose vendor, order number and item are already \
                recorded is skipped, so importing the same file twice adds nothing. See Specs/import.md.

                Examples:
                  vrm purchase import orders.csv --dry-run
                  vrm purchase import acme-orders.json --format json --vendor "Acme Outdoor"
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The file to import.") var file: String
        @Option(help: "csv or json (default: from the file name, else csv).") var format: String?
        @Option(help: "The vendor for rows without a vendor column.") var vendor: String?
        @Flag(help: "Check everything and report, but write nothing.") var dryRun = false

        func run() throws {
            let chosen = format ?? (file.lowercased().hasSuffix(".json") ? "json" : "csv")
            guard let kind = PurchaseImport.Format(rawValue: chosen.lowercased()) else { throw CLIError.usage("--format must be csv or json") }
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError(description: "cannot read \(file)") }
            guard let text = String(data: data, encoding: .utf8) else { throw CLIError.usage("\(file) is not UTF-8 text") }
            let rows = try PurchaseImport.parse(text, format: kind, defaultVendor: vendor)
            let summary = try unlock.unlock(location).portability.importPurchases(rows, dryRun: dryRun)
            let verb = dryRun ? "Would import" : "Imported"
            print(
                "\(verb) \(summary.added) purchase\(summary.added == 1 ? "" : "s"); \(summary.duplicates) already recorded (skipped).\(dryRun ? " Nothing was written." : "")"
            )
        }
    }
}
