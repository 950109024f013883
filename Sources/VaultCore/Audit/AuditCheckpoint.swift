import Foundation
import VaultCrypto

/// The newest (sequence, hash) of the share history the CLI has seen, kept in a small file
/// outside the vault (`$XDG_STATE_HOME/vrm/checkpoints/<vault id>`), so a truncated or rolled-back
/// history is caught by `vrm audit verify`.
public struct AuditCheckpoint: Sendable, Equatable {
    public var seq: Int64
    public var hash: [UInt8]

    public init(seq: Int64, hash: [UInt8]) {
        self.seq = seq
        self.hash = hash
    }
}

/// Reads and writes checkpoint files in one directory.
public struct AuditCheckpointStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    func path(vaultID: [UInt8]) -> String { directory + "/" + Hex.encode(vaultID) }

    /// The recorded checkpoint, nil if none; throws when the file exists but is unreadable.
    public func load(vaultID: [UInt8]) throws -> AuditCheckpoint? {
        let file = path(vaultID: vaultID)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw VaultError.storage("cannot read the audit checkpoint \(file)")
        }
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, let seq = Int64(parts[0]), let hash = Hex.decode(String(parts[1])), hash.count == 32 else {
            throw VaultError.storage("the audit checkpoint \(file) is malformed")
        }
        return AuditCheckpoint(seq: seq, hash: hash)
    }

    /// Atomically replaces the checkpoint (write to a temporary file, fsync, rename).
    public func save(_ checkpoint: AuditCheckpoint, vaultID: [UInt8]) throws {
        try VaultPaths.createPrivateDirectory(directory)
        let file = path(vaultID: vaultID)
        let temporary = file + ".tmp-" + Random.identifier()
        let content = "\(checkpoint.seq) \(Hex.encode(checkpoint.hash))\n"
        let fd = createExclusive(temporary)
        guard fd >= 0 else { throw VaultError.storage("cannot write the audit checkpoint in \(directory)") }
        let ok =
            content.utf8CString.withUnsafeBufferPointer { buf in
                write(fd, buf.baseAddress, buf.count - 1) == buf.count - 1
            } && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, file) == 0 else {
            unlink(temporary)
            throw VaultError.storage("cannot write the audit checkpoint in \(directory)")
        }
    }

    private func createExclusive(_ path: String) -> Int32 {
        open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    }
}
