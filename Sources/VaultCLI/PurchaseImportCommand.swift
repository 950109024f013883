import ArgumentParser
import Foundation
import VaultCore

extension PurchaseCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import purchases from a file you have: our CSV or JSON, an Amazon order history, order e-mails, OFX or camt.053 statements.",
            discussion: """
                Everything is checked first; every bad row is reported at once (with its line and \
                column) and nothing is written, or the whole file is added in one transaction. A row \
                whose vendor, order number and item are already recorded is skipped, so importing \
                the same file twice adds nothing. Without a preset the file has our columns: \
                \(PurchaseImport.columns.joined(separator: ", ")) (item and date required, vendor \
                too unless --vendor is given); --map reads other column names as ours. See \
                Specs/import.md for each preset's mapping.

                Examples:
                  vrm purchase import orders.csv --dry-run
                  vrm purchase import shop.csv --map "Order Date=date" --map "Product=item" \\
                      --date-format %m/%d/%y --vendor "Acme Outdoor"
                  vrm purchase import bank.csv --delimiter ';' --decimal-comma --debits-only \\
                      --map "Empfänger=vendor" --create-vendors
                  vrm purchase import Retail.OrderHistory.1.csv --preset amazon \\
                      --vendor Amazon --dry-run
                  vrm purchase import ~/Mail/orders/ --preset schema-org --create-vendors
                  vrm purchase import statement.ofx --preset ofx --create-vendors --json
                  vrm purchase import statement.xml --preset camt053 --dry-run
                  cat orders.json | vrm purchase import - --format json --vendor "Acme Outdoor"
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The file to import; a folder of files with --preset schema-org; - for standard input.") var file: String
        @Option(help: "csv or json (default: from the file name, else csv); also chooses Amazon's CSV or JSON form.") var format: String?
        @Option(help: "Read an export's own layout: amazon, schema-org, ofx or camt053.") var preset: String?
        @Option(help: "The vendor for rows that name none (with --preset amazon: for every row).") var vendor: String?
        @Option(
            name: .customLong("map"),
            help: ArgumentHelp(
                "Read the file's column SOURCE as our COLUMN, e.g. \"Order Date=date\" (repeatable; SOURCE=- ignores it).", valueName: "SOURCE=COLUMN"))
        var maps: [String] = []
        @Option(help: ArgumentHelp("The layout of dates that are not YYYY-MM-DD, e.g. %m/%d/%y or \"%d %b %Y\".", valueName: "pattern")) var dateFormat: String?
        @Option(help: ArgumentHelp("The CSV separator: one character such as ; or |, or tab (default: ,).", valueName: "char")) var delimiter: String?
        @Flag(help: "Amounts are written with a decimal comma: 1.234,56.") var decimalComma = false
        @Flag(help: "Amounts carry a sign, as in a bank's export: negative ones are purchases, the others credits (left out).") var debitsOnly = false
        @Option(help: ArgumentHelp("The currency of rows that give none, e.g. USD.", valueName: "code")) var currency: String?
        @Option(help: ArgumentHelp("utf-8 (default) or windows-1252 (also for Latin-1 files).", valueName: "name")) var encoding: String?
        @Flag(help: "Add the vendors the file names that are not registered yet, in the same all-or-nothing write.") var createVendors = false
        @Flag(help: "Check everything and show what would be added; write nothing.") var dryRun = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let options = PurchaseImport.Options(
                format: format, preset: preset, defaultVendor: vendor, columnMap: maps, dateFormat: dateFormat, delimiter: delimiter,
                decimalComma: decimalComma, defaultCurrency: currency, encoding: encoding, debitsOnly: debitsOnly)
            let batch = try PurchaseImport.read(try inputFiles(), options: options)
            let vault = try unlock.unlock(location)
            let outcome = try vault.portability.importPurchases(batch, createVendors: createVendors, dryRun: dryRun)
            if output.json {
                print(try Terminal.json(ImportReport.JSONDocument(outcome)))
            } else {
                print(ImportReport.text(outcome))
            }
        }

        /// The file, standard input (`-`), or a folder's files sorted by name (hidden files and
        /// sub-folders left out).
        func inputFiles() throws -> [PurchaseImport.InputFile] {
            if file == StandardStreams.name {
                if StandardStreams.passphraseReadsStandardInput(unlock) {
                    throw CLIError.usage("standard input cannot be both the file to import and the passphrase file")
                }
                return [PurchaseImport.InputFile(name: "standard input", data: try StandardStreams.read(file, what: "the file to import"))]
            }
            var info = stat()
            guard stat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                // A file, or nothing there: StandardStreams names the reason (missing, no permission).
                return [PurchaseImport.InputFile(name: file, data: try StandardStreams.read(file, what: "the file to import"))]
            }
            let isSchemaOrg = ["schema-org", "schema.org", "schemaorg"].contains(preset?.lowercased() ?? "")
            guard isSchemaOrg else { throw CLIError.usage("\(file) is a folder; only --preset schema-org reads a folder of files") }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: file) else { throw CLIError(description: "cannot read \(file)") }
            var files: [PurchaseImport.InputFile] = []
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = URL(fileURLWithPath: file).appendingPathComponent(name).path
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                files.append(PurchaseImport.InputFile(name: name, data: try StandardStreams.read(path, what: "the file to import")))
            }
            guard !files.isEmpty else { throw CLIError.usage("\(file) holds no files to read") }
            return files
        }
    }
}
