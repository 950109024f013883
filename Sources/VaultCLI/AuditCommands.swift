import ArgumentParser
import Foundation
import VaultCore
import VaultCrypto

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the share history.",
        subcommands: [Show.self, Verify.self],
        defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show who received which scopes when (the default).",
            discussion: """
                Examples:
                  vrm audit
                  vrm audit --vendor "Acme Outdoor" --since 7d
                  vrm audit --grant gr_abcdefghijklmnop --json
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: "Only entries about this vendor.") var vendor: String?
        @Option(help: "Only entries about this grant.") var grant: String?
        @Option(help: "Only entries since a date, time, or duration ago (7d).") var since: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let sinceDate = try since.map { try TimeParsing.since($0, now: Date()) }
            let vault = try unlock.unlock(location)
            let entries = try vault.audit.entries(AuditFilter(vendorName: vendor, grantID: grant, since: sinceDate))
            try? vault.audit.advanceCheckpoint()
            if output.json {
                struct Out: Encodable { var seq: Int64; var at: String; var event: String; var detail: AuditBody }
                print(try Terminal.json(entries.map { Out(seq: $0.seq, at: Timestamp.string($0.at), event: $0.event, detail: $0.body) }))
                return
            }
            if entries.isEmpty {
                print("No share-history entries match.")
                return
            }
            print(
                Terminal.table(
                    ["SEQ", "TIME", "EVENT", "VENDOR", "GRANT", "DETAIL"],
                    entries.map { e in
                        [String(e.seq), Timestamp.string(e.at), e.event, e.body.vendor ?? "-", e.body.grantID ?? "-", Self.detail(e)]
                    }))
        }

        static func detail(_ e: AuditEntry) -> String {
            var parts: [String] = []
            if let scopes = e.body.scopes, e.event != AuditEvent.shareDenied.rawValue { parts.append(scopes.joined(separator: ",")) }
            if let version = e.body.version { parts.append("v\(version)") }
            if let reason = e.body.reason { parts.append("reason=\(reason)") }
            if let client = e.body.client { parts.append("from \(client)") }
            if let ua = e.body.userAgent { parts.append("ua=\"\(ua.prefix(40))\"") }
            return parts.joined(separator: " ")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain and the checkpoint kept outside the vault file.",
            discussion: """
                Needs no passphrase. On damage, names the first bad entry and exits with status 4.

                Example:
                  vrm audit verify
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var output: OutputOptions

        func run() throws {
            let database = try location.openDatabase()
            let store = checkpointStore()
            let checkpoint = try store.load(vaultID: database.header.vaultID)
            switch try AuditVerifier.verify(database, checkpoint: checkpoint) {
            case .intact(let count, let lastHash):
                if count > 0 { try store.save(AuditCheckpoint(seq: count, hash: lastHash), vaultID: database.header.vaultID) }
                if output.json {
                    print("{\"ok\": true, \"entries\": \(count), \"checkpoint\": \(checkpoint.map { String($0.seq) } ?? "null")}")
                } else {
                    let cp = checkpoint.map { "; checkpoint at entry \($0.seq) matches" } ?? "; no earlier checkpoint to compare"
                    print("Share history intact: \(count) entr\(count == 1 ? "y" : "ies") chain correctly\(cp).")
                }
            case .broken(let firstBad, let reason):
                if output.json {
                    print("{\"ok\": false, \"first_bad\": \(firstBad)}")
                }
                throw CLIError(description: "share history damaged at entry \(firstBad): \(reason)", exitCode: 4)
            }
        }
    }
}
