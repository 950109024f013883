import ArgumentParser
import Foundation
import VaultCore
import VaultCrypto

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the share history.",
        discussion: """
            Examples:
              vrm audit
              vrm audit --vendor "Acme Outdoor" --since 7d
              vrm audit verify
            """,
        subcommands: [Show.self, Verify.self],
        defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show who received which scopes when (the default).",
            discussion: """
                BY says who wrote each entry: "vault" for entries the CLI wrote and the vault \
                key authenticates; "server" for redemptions and denials, which `vrm serve` \
                writes without the key: the host that runs it could have written or withheld \
                them. Nothing is shown from a history that fails the checks since this \
                machine's checkpoint (`vrm audit verify` checks all of it).

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
                struct Out: Encodable { var seq: Int64; var at: String; var event: String; var by: String; var detail: AuditBody }
                print(
                    try Terminal.json(
                        entries.map { Out(seq: $0.seq, at: Timestamp.string($0.at), event: $0.event, by: Self.writer($0), detail: $0.body) }))
                return
            }
            if entries.isEmpty {
                print("No share-history entries match.")
                return
            }
            print(
                Terminal.table(
                    ["SEQ", "TIME", "EVENT", "BY", "VENDOR", "GRANT", "DETAIL"],
                    entries.map { e in
                        [String(e.seq), Terminal.shortTime(e.at), e.event, Self.writer(e), e.body.vendor ?? "-", e.body.grantID ?? "-", Self.detail(e)]
                    }))
        }

        /// "vault" for an entry the vault key authenticates, "server" for one the server wrote.
        static func writer(_ e: AuditEntry) -> String { e.authenticated ? "vault" : "server" }

        static func detail(_ e: AuditEntry) -> String {
            var parts: [String] = []
            if let request = e.body.requestID { parts.append(ImportProblem.shown(request, 40)) }
            if let link = e.body.link { parts.append("link \(ImportProblem.shown(String(link.prefix(8)), 8))") }
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
            abstract: "Check the share history with the vault key, against the checkpoint kept outside the vault file.",
            discussion: """
                Checks every entry: its place in the sequence, its hash chain, the vault key's \
                MAC on every entry the CLI wrote (grant.issued, grant.revoked, \
                share.rematerialised, key.rotated, vault.migrated, request.linked, \
                request.approved, request.denied), that its body opens with the \
                vault key, and that the entry this machine last saw is still there, unchanged, \
                with no revocation undone. On damage, names the first bad entry and why, and \
                exits with status 4. When intact, the checkpoint moves to the newest entry.

                The server's entries (share.redeemed, share.denied) cannot carry the MAC: the \
                server runs without the key. The host that runs it could have written or \
                withheld them; `vrm audit` marks them "server".

                --without-key checks the hash chain alone, with no passphrase: anyone holding \
                the file can run it, but it cannot tell a forged entry, a swapped header or a \
                substituted checkpoint, since whoever can write the file can recompute every hash.

                Examples:
                  vrm audit verify
                  vrm audit verify --json
                  vrm audit verify --without-key
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        @Flag(help: "Check the hash chain alone, without the passphrase (weaker: see above).")
        var withoutKey = false

        func run() throws {
            let outcome: AuditVerification
            let previous: Int64?
            if withoutKey {
                outcome = try AuditVerifier.verify(try location.openDatabase(), checkpoint: nil)
                previous = nil
            } else {
                let vault = try unlock.unlock(location)
                let checked = try vault.audit.verify()
                outcome = checked.result
                previous = checked.previous?.seq
            }
            switch outcome {
            case .intact(let count, _):
                if output.json {
                    print("{\"ok\": true, \"entries\": \(count), \"checkpoint\": \(previous.map { String($0) } ?? "null"), \"keyed\": \(!withoutKey)}")
                } else if withoutKey {
                    print(
                        "Hash chain intact: \(count) entr\(count == 1 ? "y" : "ies") (checked without the key: forgeries by whoever can write the file are not detected)."
                    )
                } else {
                    let cp = previous.map { "; checkpoint at entry \($0) matches" } ?? "; no earlier checkpoint on this machine to compare"
                    print("Share history intact: \(count) entr\(count == 1 ? "y" : "ies") chain correctly and the CLI's are authenticated\(cp).")
                }
            case .broken(let firstBad, let reason):
                if output.json {
                    print("{\"ok\": false, \"first_bad\": \(firstBad), \"reason\": \(try Terminal.json(reason))}")
                }
                throw CLIError(description: "share history damaged at entry \(firstBad): \(reason)", exitCode: 4)
            }
        }
    }
}
