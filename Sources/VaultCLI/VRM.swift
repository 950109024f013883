public import ArgumentParser
import Foundation
import VaultCore
import VaultCrypto
import VaultRelay

/// The `vrm` command tree.
public struct VRM: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vrm",
        abstract: "VRM Vault: your encrypted record of vendors, and what you share with them.",
        discussion: """
            Keep your profile and vendor relationships in one encrypted file, share exactly what you \
            choose through scoped, expiring, revocable grants, and audit every share.

            Examples:
              vrm demo                                   # see the whole flow in a temporary vault
              vrm init --passphrase-file ~/.vrm-pass
              vrm profile set address.shipping "1 Main St, Springfield"
              vrm vendor add "Acme Outdoor" --site https://acme.example
              vrm grant create --vendor "Acme Outdoor" --scope profile.address.* \\
                  --purpose delivery
              vrm serve --port 8080

            Exit codes: 0 ok, 1 error, 2 usage or cancelled, 3 wrong passphrase,
            4 vault corrupt or unreadable (or share history damaged), 5 no vault,
            6 relay not reached (a change is saved in the vault and queued for the relay).
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, UnlockCommand.self, LockCommand.self, PassphraseCommand.self, ProfileCommand.self, VendorCommand.self, PurchaseCommand.self,
            CaseCommand.self,
            VendorKeyCommand.self, GrantCommand.self, RequestCommand.self, NotifyCommand.self, AuditCommand.self, ReportCommand.self, ExportCommand.self,
            ImportAllCommand.self,
            ServeCommand.self, UICommand.self, RelayCommand.self, RedeemCommand.self, DemoCommand.self,
        ])

    public init() {}

    /// Parses `arguments`, runs the command, and returns the process exit code. All error
    /// reporting happens here, in one place.
    public static func run(arguments: [String]) async -> Int32 {
        umask(0o077)
        do {
            try PassphraseReader.takeFromEnvironment()
            Session.takeFromEnvironment()
            try checkSubcommands(arguments)
            var command = try parseAsRoot(arguments)
            do {
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch {
                // What the command changed before it failed still goes to a linked relay.
                try? await RelayPush.flushUnlocked()
                throw error
            }
            // A linked relay gets every grant change before the command returns.
            try await RelayPush.flushUnlocked()
            return 0
        } catch {
            return report(error)
        }
    }

    /// A mistyped command word (`vrm vendr list`) is named, with the nearest commands, before
    /// ArgumentParser would report it as unexpected arguments.
    static func checkSubcommands(_ arguments: [String]) throws {
        var command: any ParsableCommand.Type = VRM.self
        var path = ["vrm"]
        for word in arguments {
            let subcommands = command.configuration.subcommands
            guard !word.hasPrefix("-"), !subcommands.isEmpty, word != "help" else { return }
            guard let next = subcommands.first(where: { $0._commandName == word }) else {
                let names = subcommands.map { $0._commandName }
                throw CLIError.usage(
                    "unknown command \"\(word.prefix(40))\" for `\(path.joined(separator: " "))`\(NearNames.hint(word, among: names)); "
                        + "commands: \(names.joined(separator: ", ")) (see `\(path.joined(separator: " ")) --help`)")
            }
            command = next
            path.append(word)
        }
    }

    static func report(_ error: any Error) -> Int32 {
        switch error {
        case let error as VaultError:
            printError(CoreErrorText.message(for: error))
            return ExitStatus.code(for: error)
        case let error as CLIError:
            printError(error.description)
            return error.exitCode
        case let error as CryptoError:
            printError(error.description)
            return 1
        case let error as ShareFormatError:
            printError(error.description)
            return 1
        case let error as RelayPending:
            printError(error.description)
            return 6
        case let error as RelayClientError:
            printError(error.description)
            return 6
        case let error as RelayError:
            printError(error.description)
            return 6
        default:
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return 0
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            return code == .validationFailure ? 2 : code.rawValue
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("vrm: error: \(message)\n".utf8))
    }
}

/// Exit statuses, documented in the README.
enum ExitStatus {
    static func code(for error: VaultError) -> Int32 {
        switch error {
        case .wrongPassphrase: 3
        case .corrupt, .tampered, .mismatch, .historyDamaged: 4
        case .noVault: 5
        case .invalidInput, .invalidField: 2
        case .vaultExists, .notFound, .conflict, .notEmpty, .storage: 1
        }
    }
}

/// Errors that belong to the command line itself.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    var exitCode: Int32 = 1

    static func usage(_ message: String) -> CLIError { CLIError(description: message, exitCode: 2) }
    static let cancelled = CLIError(description: "cancelled", exitCode: 2)
}
