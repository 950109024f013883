import ArgumentParser
import Foundation
import VaultCore
import VaultCrypto

/// `--vault PATH`, else `VRM_VAULT`, else `$XDG_DATA_HOME/vrm/vault.db`.
struct VaultLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The vault file (default: $VRM_VAULT, else $XDG_DATA_HOME/vrm/vault.db).", valueName: "path"))
    var vault: String?

    var path: String {
        let env = ProcessInfo.processInfo.environment
        if let vault, !vault.isEmpty { return vault }
        if let fromEnv = env["VRM_VAULT"], !fromEnv.isEmpty { return fromEnv }
        return VaultPaths.defaultVault()
    }

    /// Opens the file without any passphrase (server, audit verify).
    func openDatabase() throws -> VaultDatabase {
        try VaultDatabase.open(path: path)
    }
}

/// Where the passphrase comes from; never an option value.
struct UnlockOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read the passphrase from this file (- for standard input; else a `vrm unlock` session, $VRM_PASSPHRASE_FILE, $VRM_PASSPHRASE, or a terminal prompt).",
            valueName: "path"))
    var passphraseFile: String?

    func passphrase(confirm: Bool = false) throws -> SecretKey {
        try PassphraseReader.read(file: passphraseFile, confirm: confirm, prompt: "Vault passphrase")
    }

    /// Unlocks the vault at `location`, with the CLI's audit checkpoint store.
    func unlock(_ location: VaultLocation) throws -> Vault {
        // Open first: a missing or corrupt file is reported before asking for a passphrase.
        let database = try location.openDatabase()
        if passphraseFile == nil {
            // A session from `vrm unlock` opens the vault without the passphrase and the KDF.
            switch try Session.unlock(database: database) {
            case .unlocked(let vault):
                RelayPush.track(vault)
                return vault
            case .none(let note):
                if let note { Terminal.note("vrm: \(note)") }
            case .ended(let ended):
                Terminal.note("vrm: \(ended)")
            }
        }
        let vault = try Vault.unlock(database: database, passphrase: passphrase(), checkpoints: checkpointStore())
        // A linked relay gets this command's grant changes before it returns (`RelayPush`).
        RelayPush.track(vault)
        return vault
    }
}

/// `--json` for scripts; `--utc` for times in UTC on a terminal too.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for scripts instead of a table.")
    var json = false
    @Flag(name: .long, help: "Show times in UTC (ISO 8601); on a terminal they are local by default.")
    var utc = false

    func validate() throws {
        if utc { TimeDisplay.utc = true }
    }
}

func checkpointStore() -> AuditCheckpointStore {
    AuditCheckpointStore(directory: VaultPaths.checkpointDirectory())
}
