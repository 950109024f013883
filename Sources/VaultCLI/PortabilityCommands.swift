public import ArgumentParser
import Foundation
import VaultCore

extension ExportFormat: ExpressibleByArgument {}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export your data (data portability). The file is plaintext.",
        discussion: """
            Formats: json (everything: profile, vendors, purchases, cases; loads into a new vault \
            with `vrm import-all`), jsonld (schema.org Person and Order documents), csv (purchases), \
            vcard (the profile, vCard 4). Grants and the share history stay in the vault: they are \
            bound to its keys. The file is created with mode 0600 and is NOT encrypted.

            Examples:
              vrm export --format json --out vrm-backup.json
              vrm export --format vcard --out me.vcf
              vrm export --format json --out - | gpg --encrypt \\
                  -r me@example.org > backup.json.gpg
            """)
    @OptionGroup var location: VaultLocation
    @OptionGroup var unlock: UnlockOptions
    @Option(help: "json, jsonld, csv or vcard.") var format: ExportFormat
    @Option(help: ArgumentHelp("The file to write (refuses to overwrite); - for standard output.", valueName: "file")) var out: String
    @Flag(help: "Replace the file if it exists.") var force = false

    func run() throws {
        let data = try unlock.unlock(location).portability.export(format)
        if out == StandardStreams.name {
            try StandardStreams.writeOut(data + (format == .json || format == .jsonld ? Data("\n".utf8) : Data()))
            return
        }
        try PrivateFile.write(data, to: out, replace: force)
        Terminal.note("Wrote \(out) (\(data.count) bytes, mode 0600). It is plaintext: keep it safe, delete it when done.")
    }
}

struct ImportAllCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-all",
        abstract: "Load a `vrm export --format json` file into a vault that has no records yet.",
        discussion: """
            Reads vrm-export/2 (snake_case keys) and the older vrm-export/1 (camelCase).

            Examples:
              vrm init --vault new.db && vrm import-all vrm-backup.json --vault new.db
              gpg --decrypt backup.json.gpg | vrm import-all - --vault new.db --passphrase-file pw
            """)
    @OptionGroup var location: VaultLocation
    @OptionGroup var unlock: UnlockOptions
    @Argument(help: "The JSON export (- for standard input).") var file: String
    @OptionGroup var output: OutputOptions

    struct CountsJSON: Encodable {
        var profileFields, vendors, purchases, cases: Int
        enum CodingKeys: String, CodingKey {
            case vendors, purchases, cases
            case profileFields = "profile_fields"
        }
    }

    func run() throws {
        if file == StandardStreams.name, StandardStreams.passphraseReadsStandardInput(unlock) {
            throw CLIError.usage("standard input cannot be both the export and the passphrase file")
        }
        let data = try StandardStreams.read(file, what: "the export")
        let counts = try unlock.unlock(location).portability.importAll(data)
        if output.json {
            print(try Terminal.json(CountsJSON(profileFields: counts.profile, vendors: counts.vendors, purchases: counts.purchases, cases: counts.cases)))
            return
        }
        print("Imported \(counts.profile) profile fields, \(counts.vendors) vendors, \(counts.purchases) purchases, \(counts.cases) cases.")
    }
}

/// Writes plaintext exports: mode 0600, exclusive unless replacing, fsynced.
enum PrivateFile {
    /// Written to a temporary file beside `path`, then renamed (replace) or linked (no replace) into
    /// place, so a failed write never leaves a partial file nor loses the one being replaced.
    static func write(_ data: Data, to path: String, replace: Bool) throws {
        if !replace, FileManager.default.fileExists(atPath: path) {
            throw CLIError(description: "\(path) already exists (pass --force to replace it)")
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CLIError(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { unlink(temporary) }
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced else { throw CLIError(description: "cannot write \(path) (disk full?); nothing was left behind") }
        if replace {
            guard rename(temporary, path) == 0 else { throw CLIError(description: "cannot replace \(path): \(String(cString: strerror(errno)))") }
        } else {
            guard link(temporary, path) == 0 else {
                throw CLIError(
                    description: errno == EEXIST
                        ? "\(path) already exists (pass --force to replace it)" : "cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}
