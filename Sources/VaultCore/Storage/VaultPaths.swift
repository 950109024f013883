public import Foundation

/// Where vault files and checkpoints live.
public enum VaultPaths {
    /// `$XDG_DATA_HOME/vrm/vault.db`, or `~/.local/share/vrm/vault.db`.
    public static func defaultVault(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base =
            environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (homeDirectory(environment) + "/.local/share")
        return base + "/vrm/vault.db"
    }

    /// `$XDG_STATE_HOME/vrm/checkpoints`, or `~/.local/state/vrm/checkpoints`: kept outside the vault file.
    public static func checkpointDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base =
            environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (homeDirectory(environment) + "/.local/state")
        return base + "/vrm/checkpoints"
    }

    static func homeDirectory(_ environment: [String: String]) -> String {
        environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }

    /// Creates `directory` and missing parents with mode 0700.
    public static func createPrivateDirectory(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw VaultError.storage("cannot create directory \(directory)")
        }
    }
}
