import ArgumentParser
import Foundation
import VaultCore

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Keep your profile: name, email, addresses, sizes, preferences.",
        discussion: """
            Keys are dotted names of a-z 0-9 . _ - such as \(ProfileKey.wellKnown.joined(separator: ", ")).
            Changing a field re-materialises every active grant that shares it.

            Examples:
              vrm profile set email jo@example.org
              vrm profile set address.shipping "1 Main St, Springfield"
              vrm profile show
            """,
        subcommands: [Set.self, Get.self, Unset.self, Show.self])

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a profile field.",
            discussion: """
                Examples:
                  vrm profile set email jo@example.org
                  vrm profile set address.shipping "1 Main St, Springfield"
                  vrm profile set address.billing \\
                      - < billing.txt     # the value from standard input
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The field, e.g. address.shipping.") var key: String
        @Argument(help: "The value (UTF-8 text; - reads it from standard input, without its last line ending).") var value: String
        @OptionGroup var output: OutputOptions

        struct FieldJSON: Encodable {
            var key: String
            var value: String?
            var rematerialisedGrants: Int
            enum CodingKeys: String, CodingKey {
                case key, value
                case rematerialisedGrants = "rematerialised_grants"
            }
        }

        func run() throws {
            try ProfileKey.validate(key)
            var text = value
            if value == StandardStreams.name {
                if StandardStreams.passphraseReadsStandardInput(unlock) {
                    throw CLIError.usage("standard input cannot be both the value and the passphrase file")
                }
                let data = try StandardStreams.read(value, limit: ProfileKey.maxValueBytes + 2)
                guard let read = String(data: data, encoding: .utf8) else { throw CLIError.usage("the value on standard input is not UTF-8 text") }
                text = read.hasSuffix("\r\n") ? String(read.dropLast(2)) : read.hasSuffix("\n") ? String(read.dropLast()) : read
            }
            let vault = try unlock.unlock(location)
            // The count comes from the re-materialisation itself: no second pass over every grant.
            let rebuilt = try vault.profile.set(key, value: text)
            try Terminal.report(
                output, FieldJSON(key: key, value: text, rematerialisedGrants: rebuilt),
                text: "Set \(key)." + (rebuilt == 0 ? "" : " Re-materialised \(rebuilt) active grant\(rebuilt == 1 ? "" : "s")."))
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one profile field.", discussion: "Example:\n  vrm profile get email")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The field.") var key: String

        func run() throws {
            try ProfileKey.validate(key)
            guard let value = try unlock.unlock(location).profile.value(key) else {
                throw VaultError.notFound(kind: "profile field", id: key)
            }
            print(value)
        }
    }

    struct Unset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a profile field.", discussion: "Example:\n  vrm profile unset phone")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The field.") var key: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            try ProfileKey.validate(key)
            try unlock.unlock(location).profile.unset(key)
            try Terminal.report(output, ["removed": key], text: "Removed \(key).")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the whole profile.", discussion: "Examples:\n  vrm profile show\n  vrm profile show --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let entries = try unlock.unlock(location).profile.all()
            if output.json {
                print(try Terminal.json(Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })))
            } else if entries.isEmpty {
                print("The profile is empty. Add a field with `vrm profile set KEY VALUE`.")
            } else {
                print(Terminal.table(["KEY", "VALUE"], entries.map { [$0.key, $0.value] }))
            }
        }
    }
}
