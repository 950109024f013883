import ArgumentParser
import Foundation
import VaultCore
import VaultCrypto

/// How hard Argon2id works on each unlock.
enum KDFStrength: String, ExpressibleByArgument, CaseIterable {
    case interactive, moderate, sensitive

    var parameters: KDFParameters {
        switch self {
        case .interactive: .interactive
        case .moderate: .moderate
        case .sensitive: .sensitive
        }
    }
}

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new, empty vault.",
        discussion: """
            Refuses to overwrite an existing vault. The passphrase comes from --passphrase-file, \
            $VRM_PASSPHRASE_FILE, $VRM_PASSPHRASE, or is asked twice on the terminal. It is never \
            stored; if you lose it, the vault cannot be opened. A weak passphrase (shorter than 10 \
            characters, fewer than 5 different characters, or one of the most common ones) is \
            refused unless --allow-weak.

            Examples:
              vrm init
              vrm init --kdf moderate --passphrase-file ~/.config/vrm/passphrase
            """)

    @OptionGroup var location: VaultLocation
    @OptionGroup var unlock: UnlockOptions

    @Option(help: "Argon2id cost: interactive (64 MiB, default), moderate (256 MiB) or sensitive (1 GiB).")
    var kdf: KDFStrength = .interactive

    @Flag(help: "Accept a passphrase that is short, repetitive or common.")
    var allowWeak = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        let path = location.path
        if FileManager.default.fileExists(atPath: path) { throw VaultError.vaultExists(path: path) }
        let passphrase = try unlock.passphrase(confirm: true)
        try PassphraseStrength.check(passphrase, allowWeak: allowWeak)
        let vault = try Vault.create(path: path, passphrase: passphrase, kdf: kdf.parameters, checkpoints: checkpointStore())
        try Terminal.report(
            output, ["vault_id": vault.database.header.vaultIDHex, "path": path], text: "Created vault \(vault.database.header.vaultIDHex) at \(path)")
    }
}

struct PassphraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passphrase",
        abstract: "Change the vault passphrase, and with --rotate-key the master key too.",
        discussion: """
            Examples:
              vrm passphrase change
              vrm passphrase change --rotate-key
            """,
        subcommands: [Change.self])

    struct Change: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-wrap the master key under a new passphrase; --rotate-key replaces the key itself.",
            discussion: """
                The current passphrase comes from the usual sources (never from a `vrm unlock` \
                session); the new one from --new-passphrase-file or is asked twice on the terminal. \
                A weak new passphrase is refused unless --allow-weak. Every `vrm unlock` session of \
                the vault ends.

                Without --rotate-key only the wrapping of the master key changes: the old \
                passphrase no longer opens this file, but it still opens any older copy of it \
                (a backup, a synced copy), and with that copy's key whoever has it could read \
                records written later. Use --rotate-key when a passphrase or a copy may have \
                leaked: a new master key, every record, grant and history MAC re-sealed under \
                it in one transaction (killed midway, the vault stays as it was). Neither the \
                old passphrase nor any old copy opens a record written afterwards, and on this \
                machine an old copy is refused. Two things are kept: the share signing key \
                (vendors have pinned it, so an old copy with the old passphrase could still sign \
                as this vault), and bearer share keys, which come from the tokens (revoke and \
                re-issue bearer grants to cut those).

                Examples:
                  vrm passphrase change --passphrase-file old.txt \\
                      --new-passphrase-file new.txt
                  vrm passphrase change --rotate-key --new-passphrase-file new.txt
                """)

        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions

        @Option(help: ArgumentHelp("Read the new passphrase from this file.", valueName: "path"))
        var newPassphraseFile: String?

        @Flag(help: "Replace the master key too, re-sealing everything under it (see above).")
        var rotateKey = false

        @Flag(help: "Accept a new passphrase that is short, repetitive or common.")
        var allowWeak = false

        @OptionGroup var output: OutputOptions

        func run() throws {
            if unlock.passphraseFile == StandardStreams.name, newPassphraseFile == StandardStreams.name {
                throw CLIError.usage("standard input cannot hold both passphrases: give one of them in a file")
            }
            let database = try location.openDatabase()
            let current = try unlock.passphrase()
            let vault = try Vault.unlock(database: database, passphrase: current, checkpoints: checkpointStore())
            let new: SecretKey
            if let newPassphraseFile {
                new = try PassphraseReader.fromFile(newPassphraseFile)
            } else {
                new = try PassphraseReader.fromTerminal(prompt: "New vault passphrase", confirm: true)
            }
            try PassphraseStrength.check(new, allowWeak: allowWeak)
            if rotateKey {
                try vault.rotateKey(current: current, new: new)
                Session.endSessions(vaultID: database.header.vaultIDHex)
                try Terminal.report(
                    output, ["passphrase_changed": true, "key_rotated": true],
                    text: "Passphrase changed and master key replaced: every record re-sealed under the new key.")
                // A linked relay gets the new X25519 key at the end of this command (`RelayPush`).
                if try database.isLinkedToRelay() {
                    RelayPush.track(try Vault.unlock(database: try location.openDatabase(), passphrase: new, checkpoints: checkpointStore()))
                }
            } else {
                try vault.changePassphrase(current: current, new: new)
                Session.endSessions(vaultID: database.header.vaultIDHex)
                try Terminal.report(output, ["passphrase_changed": true, "key_rotated": false], text: "Passphrase changed.")
            }
        }
    }
}
