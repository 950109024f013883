public import ArgumentParser
import Foundation
import VaultCore

extension RelationshipStage: ExpressibleByArgument {}

/// A vendor as printed by `--json`.
struct VendorJSON: Encodable {
    var id: String
    var name: String
    var site: String?
    var contact: String?
    var publicKey: String?
    var stage: String
    var notes: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ v: Vendor) {
        id = v.id
        name = v.name
        site = v.site
        contact = v.contact
        publicKey = v.publicKey
        stage = v.stage.rawValue
        notes = v.notes
        createdAt = v.createdAt
        updatedAt = v.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, site, contact, stage, notes
        case publicKey = "public_key", createdAt = "created_at", updatedAt = "updated_at"
    }
}

struct VendorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vendor",
        abstract: "Keep your registry of vendors and where you stand with each.",
        discussion: """
            Stages: \(RelationshipStage.allCases.map(\.rawValue).joined(separator: " → ")).

            Examples:
              vrm vendor add "Acme Outdoor" --site https://acme.example
              vrm vendor stage "Acme Outdoor" commitment
              vrm vendor list
            """,
        subcommands: [Add.self, List.self, Show.self, Edit.self, Stage.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a vendor.",
            discussion: """
                With --public-key (the vrmpk1_… text from `vrm vendor-key generate`), grants to this \
                vendor are key-bound: the share is sealed so only the vendor's key opens it.

                Examples:
                  vrm vendor add "Acme Outdoor" --site https://acme.example \\
                      --contact support@acme.example
                  vrm vendor add "Bolt Bikes" --public-key vrmpk1_…
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The vendor's name (unique, ignoring case).") var name: String
        @Option(help: "The vendor's web site.") var site: String?
        @Option(help: "How to reach the vendor.") var contact: String?
        @Option(help: "The vendor's public key (vrmpk1_…).") var publicKey: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vault = try unlock.unlock(location)
            let vendor = try vault.vendors.add(name: name, site: site, contact: contact, publicKey: publicKey)
            try Terminal.report(output, VendorJSON(vendor), text: "Added vendor \(vendor.name)" + (vendor.hasPublicKey ? " (grants will be key-bound)." : "."))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List vendors.", discussion: "Example:\n  vrm vendor list --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vendors = try unlock.unlock(location).vendors.all()
            if output.json {
                print(try Terminal.json(vendors.map(VendorJSON.init)))
            } else if vendors.isEmpty {
                print("No vendors yet. Add one with `vrm vendor add NAME`.")
            } else {
                print(
                    Terminal.table(
                        ["NAME", "STAGE", "SITE", "KEY"],
                        vendors.map { [$0.name, $0.stage.rawValue, $0.site ?? "-", $0.hasPublicKey ? "yes" : "no"] }))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one vendor.", discussion: "Example:\n  vrm vendor show \"Acme Outdoor\"")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The vendor's name.") var name: String

        func run() throws {
            let vault = try unlock.unlock(location)
            let vendor = try vault.vendors.vendor(named: name)
            if output.json {
                print(try Terminal.json(VendorJSON(vendor)))
                return
            }
            let grants = try vault.grants.list(vendorName: name)
            let now = Date()
            print(Terminal.bold(vendor.name))
            print("  stage:      \(vendor.stage.rawValue)")
            print("  site:       \(vendor.site ?? "-")")
            print("  contact:    \(vendor.contact ?? "-")")
            print("  public key: \(vendor.publicKey ?? "none (grants are bearer grants)")")
            print("  notes:      \(vendor.notes ?? "-")")
            print("  grants:     \(grants.filter { $0.state(at: now) == .active }.count) active of \(grants.count)")
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a vendor's site, contact, public key or notes.",
            discussion: """
                An empty value clears a field. The vendor's active grants are re-materialised.

                Example:
                  vrm vendor edit "Acme Outdoor" --notes "Good returns policy" --contact ""
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The vendor's name.") var name: String
        @Option var site: String?
        @Option var contact: String?
        @Option(help: "A new public key (vrmpk1_…); applies to grants issued from now on.") var publicKey: String?
        @Option var notes: String?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if site == nil, contact == nil, publicKey == nil, notes == nil {
                throw ValidationError("nothing to change: give --site, --contact, --public-key or --notes")
            }
        }

        func run() throws {
            let vendor = try unlock.unlock(location).vendors.edit(named: name, VendorEdit(site: site, contact: contact, publicKey: publicKey, notes: notes))
            try Terminal.report(output, VendorJSON(vendor), text: "Updated vendor \(vendor.name).")
        }
    }

    struct Stage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the relationship stage.",
            discussion: "Example:\n  vrm vendor stage \"Acme Outdoor\" commitment")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The vendor's name.") var name: String
        @Argument(help: "awareness, exploration, expansion, commitment or dissolution.") var stage: RelationshipStage
        @OptionGroup var output: OutputOptions

        func run() throws {
            let vendor = try unlock.unlock(location).vendors.edit(named: name, VendorEdit(stage: stage))
            try Terminal.report(output, VendorJSON(vendor), text: "\(vendor.name) is now at stage \(vendor.stage.rawValue).")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove vendors and revoke their grants (all named, or none).",
            discussion: """
                Says what each vendor still holds (purchases, cases, active grants) and asks to \
                confirm on a terminal; pass --yes otherwise. A vendor with purchases or cases is \
                refused unless --with-records, which removes them too (the grants that shared them \
                are re-materialised); or keep the vendor at stage dissolution.

                Examples:
                  vrm vendor remove "Acme Outdoor"
                  vrm vendor remove "Acme Outdoor" "Bolt Bikes" --with-records --yes --json
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The vendors' names.") var names: [String]
        @Flag(help: "Remove the vendors' purchases and cases too.") var withRecords = false
        @Flag(name: .shortAndLong, help: "Do not ask for confirmation.") var yes = false
        @OptionGroup var output: OutputOptions

        struct RemovalJSON: Encodable {
            var vendor: VendorJSON
            var revokedGrants: Int
            var removedPurchases: Int
            var removedCases: Int

            enum CodingKeys: String, CodingKey {
                case vendor
                case revokedGrants = "revoked_grants", removedPurchases = "removed_purchases", removedCases = "removed_cases"
            }
        }

        func validate() throws {
            if names.isEmpty { throw ValidationError("name at least one vendor (`vrm vendor list` shows them)") }
        }

        func run() throws {
            let vault = try unlock.unlock(location)
            var lines: [String] = []
            func count(_ n: Int, _ what: String) -> String { "\(n) \(what)\(n == 1 ? "" : "s")" }
            for (vendor, held) in try vault.vendors.holdings(names: names) {
                lines.append(
                    "  \(vendor.name): \(count(held.purchases, "purchase")), \(count(held.cases, "case")), \(count(held.unrevokedGrants, "grant")) to revoke")
                if held.records > 0, !withRecords {
                    throw CLIError(
                        description: "\(vendor.name) still has \(count(held.purchases, "purchase")) and \(count(held.cases, "case")): "
                            + "pass --with-records to remove them too, or keep the vendor at stage dissolution (`vrm vendor stage \"\(vendor.name)\" dissolution`)"
                    )
                }
            }
            let what = withRecords ? "and their purchases and cases, revoking their grants" : "and revoke their grants"
            try Terminal.confirmRemoval(
                "Remove \(lines.count == 1 ? "this vendor" : "these \(lines.count) vendors") \(what)?\n\(lines.joined(separator: "\n"))\n", yes: yes)
            let removals = try vault.vendors.remove(names: names, withRecords: withRecords)
            try Terminal.report(
                output,
                RemovedJSON(
                    removed: removals.map {
                        RemovalJSON(
                            vendor: VendorJSON($0.vendor), revokedGrants: $0.revokedGrants, removedPurchases: $0.removedPurchases, removedCases: $0.removedCases
                        )
                    }),
                text: removals.map { r in
                    var parts: [String] = []
                    if r.removedPurchases > 0 { parts.append("\(r.removedPurchases) purchase\(r.removedPurchases == 1 ? "" : "s")") }
                    if r.removedCases > 0 { parts.append("\(r.removedCases) case\(r.removedCases == 1 ? "" : "s")") }
                    return "Removed \(r.vendor.name)" + (parts.isEmpty ? "" : " with \(parts.joined(separator: " and "))")
                        + (r.revokedGrants > 0 ? "; revoked \(r.revokedGrants) grant\(r.revokedGrants == 1 ? "" : "s")." : ".")
                }.joined(separator: "\n"))
        }
    }
}
