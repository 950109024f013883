import Foundation
import VaultCrypto

/// What the CLI last saw of the vault, kept in a small file outside it
/// (`$XDG_STATE_HOME/vrm/checkpoints/<keyed name>`): the newest history entry (sequence and
/// hash) and how many grants were revoked. A history that no longer holds that entry, or fewer
/// revocations, was rolled back or rewritten by whoever can write the file, and the CLI refuses
/// to act on it. Format: `Specs/vault-format.md` §9.
public struct AuditCheckpoint: Sendable, Equatable {
    public var seq: Int64
    public var hash: [UInt8]
    /// Grants whose sealed status records a revocation. Revocations are final and only the
    /// vault key writes them, so the count never goes down.
    public var revocations: Int64
    /// The vault header's generation: one more for every CLI write, so it never goes down.
    public var generation: Int64

    public init(seq: Int64, hash: [UInt8], revocations: Int64 = 0, generation: Int64 = 0) {
        self.seq = seq
        self.hash = hash
        self.revocations = revocations
        self.generation = generation
    }
}

/// Reads and writes checkpoint files in one directory.
public struct AuditCheckpointStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Format 2: the file is named by a MAC under the vault key, so only the key finds it and
    /// a header with another vault id points nowhere new.
    func path(keys: VaultKeys) -> String { directory + "/" + Hex.encode(keys.mac("checkpoint-name", [])) }

    /// Format 1: the file was named by the vault id.
    func legacyPath(vaultID: [UInt8]) -> String { directory + "/" + Hex.encode(vaultID) }

    static func contentMAC(_ checkpoint: AuditCheckpoint, keys: VaultKeys) -> [UInt8] {
        keys.mac("checkpoint", [bigEndian(checkpoint.seq), checkpoint.hash, bigEndian(checkpoint.revocations), bigEndian(checkpoint.generation)])
    }

    /// The recorded checkpoint, nil if none; throws when the file exists but is unreadable,
    /// malformed or not authenticated by this vault's key (replaced or edited).
    public func load(keys: VaultKeys) throws -> AuditCheckpoint? {
        let file = path(keys: keys)
        guard let text = try read(file) else { return nil }
        let parts = text.split(whereSeparator: \.isWhitespace)
        if parts.count == 3, parts[0] == "2", parts[1] == "retired" {
            guard let mac = Hex.decode(String(parts[2])), constantTimeEquals(mac, keys.mac("checkpoint-retired", [])) else {
                throw VaultError.corrupt("the audit checkpoint \(file) failed authentication (replaced or edited)")
            }
            throw VaultError.corrupt(
                "this vault's master key was replaced on this machine (`vrm passphrase change --rotate-key`): this file is an older copy, or was rolled back")
        }
        guard parts.count == 6, parts[0] == "2", let seq = Int64(parts[1]), let hash = Hex.decode(String(parts[2])), hash.count == 32,
            let revocations = Int64(parts[3]), revocations >= 0, let generation = Int64(parts[4]), generation >= 0,
            let mac = Hex.decode(String(parts[5])), mac.count == 32
        else {
            throw VaultError.corrupt("the audit checkpoint \(file) is malformed")
        }
        let checkpoint = AuditCheckpoint(seq: seq, hash: hash, revocations: revocations, generation: generation)
        guard constantTimeEquals(mac, Self.contentMAC(checkpoint, keys: keys)) else {
            throw VaultError.corrupt("the audit checkpoint \(file) failed authentication (replaced or edited)")
        }
        return checkpoint
    }

    /// A format-1 checkpoint (`<seq> <hash hex>`), read once by the format migration.
    func loadLegacy(vaultID: [UInt8]) throws -> AuditCheckpoint? {
        let file = legacyPath(vaultID: vaultID)
        guard let text = try read(file) else { return nil }
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, let seq = Int64(parts[0]), let hash = Hex.decode(String(parts[1])), hash.count == 32 else {
            throw VaultError.corrupt("the audit checkpoint \(file) is malformed")
        }
        return AuditCheckpoint(seq: seq, hash: hash)
    }

    func removeLegacy(vaultID: [UInt8]) {
        unlink(legacyPath(vaultID: vaultID))
    }

    /// Marks the checkpoint of a key that a rotation replaced: `2 retired <mac>`.
    func saveRetired(keys: VaultKeys) throws {
        try write("2 retired \(Hex.encode(keys.mac("checkpoint-retired", [])))\n", to: path(keys: keys))
    }

    /// Atomically replaces the checkpoint (write to a temporary file, fsync, rename).
    public func save(_ checkpoint: AuditCheckpoint, keys: VaultKeys) throws {
        let mac = Self.contentMAC(checkpoint, keys: keys)
        try write(
            "2 \(checkpoint.seq) \(Hex.encode(checkpoint.hash)) \(checkpoint.revocations) \(checkpoint.generation) \(Hex.encode(mac))\n",
            to: path(keys: keys))
    }

    private func write(_ content: String, to file: String) throws {
        try VaultPaths.createPrivateDirectory(directory)
        let temporary = file + ".tmp-" + Random.identifier()
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw VaultError.storage("cannot write the audit checkpoint in \(directory)") }
        let ok =
            content.utf8CString.withUnsafeBufferPointer { buf in
                Glibc.write(fd, buf.baseAddress, buf.count - 1) == buf.count - 1
            } && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, file) == 0 else {
            unlink(temporary)
            throw VaultError.storage("cannot write the audit checkpoint in \(directory)")
        }
    }

    private func read(_ file: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        guard let data = FileManager.default.contents(atPath: file), data.count <= 4096 else {
            throw VaultError.storage("cannot read the audit checkpoint \(file)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func bigEndian(_ value: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: value) >> (56 - 8 * $0)) }
    }
}
