import Foundation
import VaultCore
import VaultCrypto

/// The newest share version `vrm redeem` has received for each vault and grant, one small file
/// each under `$XDG_STATE_HOME/vrm/share-versions/`, so that a share older than one already
/// received (a vault file its host put back to an earlier copy) is refused instead of taken as
/// current.
struct ShareVersions {
    let directory: String

    /// `$XDG_STATE_HOME/vrm/share-versions`, or `~/.local/state/vrm/share-versions`.
    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ShareVersions {
        let checkpoints = VaultPaths.checkpointDirectory(environment: environment)
        return ShareVersions(directory: (checkpoints as NSString).deletingLastPathComponent + "/share-versions")
    }

    /// The file for one vault and grant: named by a hash of both, so nothing the server sent
    /// becomes part of a path.
    func path(vaultID: String, grantID: String) -> String {
        directory + "/" + Hex.encode(BLAKE2b.hash([Array("vrm-share-version-v1".utf8), Array(vaultID.utf8), [0], Array(grantID.utf8)], outputLength: 16))
    }

    /// The newest version received before, or nil.
    func newest(vaultID: String, grantID: String) throws -> Int? {
        let file = path(vaultID: vaultID, grantID: grantID)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
            let version = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw CLIError(description: "the share-version record \(file) is unreadable; remove it to accept the next share as new") }
        return version
    }

    /// Accepts `version` if it is not older than the newest received before, and records it.
    func accept(vaultID: String, grantID: String, version: Int) throws {
        if let newest = try newest(vaultID: vaultID, grantID: grantID), version < newest {
            throw CLIError(
                description: "stale share: version \(version) of grant \(grantID.prefix(40)) is older than version \(newest) received "
                    + "before (the vault was rolled back, or the answer replayed); keep the data of version \(newest)")
        }
        try VaultPaths.createPrivateDirectory(directory)
        let file = path(vaultID: vaultID, grantID: grantID)
        let temporary = file + ".tmp-" + Random.identifier()
        guard FileManager.default.createFile(atPath: temporary, contents: Data("\(version)\n".utf8), attributes: [.posixPermissions: 0o600]),
            rename(temporary, file) == 0
        else {
            unlink(temporary)
            throw CLIError(description: "cannot record the share version in \(directory)")
        }
    }
}
