import ArgumentParser
import Foundation
import VaultCore

struct UnlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Unlock the vault once for this shell; later commands need no passphrase.",
        discussion: """
            Asks for the passphrase (or reads --passphrase-file), then prints a shell line that sets \
            VRM_SESSION. Commands that find VRM_SESSION use it instead of asking, without the key \
            derivation. The master key is kept sealed under the session's key in \
            $XDG_RUNTIME_DIR/vrm; the key itself is only in the variable. The session ends on \
            `vrm lock`, after --timeout without use, and at logout or reboot (the runtime \
            directory goes). `vrm passphrase change` still asks for the passphrase, and ends \
            every session of the vault. See Specs/session.md.

            Examples:
              eval "$(vrm unlock)"                        # bash, zsh
              vrm unlock --shell fish | source            # fish
              export VRM_SESSION="$(vrm unlock --raw --passphrase-file ~/.vrm-pass)"
              vrm unlock --timeout 1h --json
            """)

    enum Shell: String, ExpressibleByArgument, CaseIterable { case sh, fish }

    @OptionGroup var location: VaultLocation
    @OptionGroup var unlock: UnlockOptions
    @Option(help: "End the session after this long without use: 90s, 15m, 2h (1 minute to 24 hours).") var timeout = "15m"
    @Option(help: "The shell syntax to print: sh (bash, zsh, dash) or fish.") var shell: Shell = .sh
    @Flag(help: "Print only the session value.") var raw = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if raw, output.json { throw ValidationError("use either --raw or --json") }
        _ = try idleTimeout()
    }

    func idleTimeout() throws -> TimeInterval {
        let text = timeout.trimmingCharacters(in: .whitespaces).lowercased()
        let seconds: TimeInterval? =
            text.hasSuffix("s") ? Int(text.dropLast()).map(TimeInterval.init) : TimeParsing.duration(text)
        guard let seconds, Session.timeoutRange.contains(seconds) else {
            throw ValidationError("--timeout must be a duration from 1 minute to 24 hours, such as 90s, 15m or 2h")
        }
        return seconds
    }

    func run() throws {
        let seconds = try idleTimeout()
        let database = try location.openDatabase()
        _ = try Session.directory(create: true)  // no runtime directory: say so before asking
        let master = try Vault.unwrapMasterKey(database: database, passphrase: unlock.passphrase())
        // Everything a command would check (the header's MAC, the checkpoint) before the session starts.
        _ = try Vault.unlock(database: database, master: master, checkpoints: checkpointStore())
        let (id, key) = try Session.start(database: database, master: master, idleTimeout: seconds)
        let minutes = Int(seconds / 60)
        let idle = seconds < 120 ? "\(Int(seconds)) s" : minutes < 120 ? "\(minutes) min" : "\(minutes / 60) h"
        if raw {
            Session.printValue(id: id, key: key, prefix: "", suffix: "\n")
        } else if output.json {
            Session.printValue(
                id: id, key: key, prefix: "{\n  \"idle_timeout_seconds\" : \(Int(seconds)),\n  \"session\" : \"",
                suffix:
                    "\",\n  \"variable\" : \"\(Session.variable)\",\n  \"vault\" : \(try Terminal.json(database.path)),\n  \"vault_id\" : \"\(database.header.vaultIDHex)\"\n}\n"
            )
        } else {
            switch shell {
            case .sh: Session.printValue(id: id, key: key, prefix: "export \(Session.variable)=\"", suffix: "\"\n")
            case .fish: Session.printValue(id: id, key: key, prefix: "set -gx \(Session.variable) \"", suffix: "\";\n")
            }
            Terminal.note(
                "Vault unlocked. Commands that see \(Session.variable) need no passphrase until `vrm lock`, \(idle) without use, or logout."
                    + (Terminal.stdoutIsTTY ? "\nSet it in this shell with: eval \"$(vrm unlock)\"" : ""))
        }
    }
}

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "End the session that `vrm unlock` started (or every session with --all).",
        discussion: """
            Destroys the session file, so VRM_SESSION opens nothing any more, and prints \
            `unset VRM_SESSION` for the shell.

            Examples:
              eval "$(vrm lock)"
              vrm lock --shell fish | source
              vrm lock --all
            """)

    @Flag(help: "End every session of this user, for every vault.") var all = false
    @Option(help: "The shell syntax to print: sh (bash, zsh, dash) or fish.") var shell: UnlockCommand.Shell = .sh
    @Flag(help: "Print {\"ended\": N} instead of the shell line.") var json = false

    func run() throws {
        // The shell forgets the variable whatever happens to the file.
        if !json { print(shell == .fish ? "set -e \(Session.variable);" : "unset \(Session.variable)") }
        let ended: Int
        do {
            ended = try Session.lock(all: all)
        } catch {
            if json { print(try Terminal.json(["ended": 0])) }
            Terminal.note("No session to end: \(error)")
            return
        }
        if json { print(try Terminal.json(["ended": ended])) }
        Terminal.note(ended == 0 ? "No session to end." : "Ended \(ended) session\(ended == 1 ? "" : "s").")
    }
}
