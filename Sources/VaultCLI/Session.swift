import Foundation
import Synchronization
import VaultCore
import VaultCrypto

/// `vrm unlock` sessions (Specs/session.md): the master key sealed under a random session key
/// in a file under `$XDG_RUNTIME_DIR/vrm`, the session key only in the shell's `VRM_SESSION`.
/// Neither half alone opens anything; the file goes at `vrm lock`, after the idle timeout, and
/// with the runtime directory at logout or reboot.
enum Session {
    static let variable = "VRM_SESSION"
    static let defaultTimeout: TimeInterval = 15 * 60
    static let timeoutRange: ClosedRange<TimeInterval> = 60...(24 * 3600)
    static let idBytes = 16, keyBytes = 32

    /// What `VRM_SESSION` held when the process started.
    enum Taken {
        case absent
        case malformed
        case handle(id: String, key: SecretKey)
    }

    private static let taken = Mutex<Taken>(.absent)

    /// Moves `VRM_SESSION` into secure memory and out of the environment, as
    /// `PassphraseReader.takeFromEnvironment` does with `VRM_PASSPHRASE`.
    static func takeFromEnvironment() {
        guard let parsed = PassphraseReader.takeVariable(variable, parse) else { return }
        taken.withLock { $0 = parsed }
    }

    /// `<32 hex id>.<43 base64url key>`, decoded without the key passing through a `String`.
    static func parse(_ value: UnsafeBufferPointer<UInt8>) -> Taken {
        guard value.count == idBytes * 2 + 1 + 43, value[idBytes * 2] == UInt8(ascii: ".") else { return .malformed }
        let id = String(decoding: value[0..<(idBytes * 2)], as: UTF8.self)
        guard id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return .malformed }
        let keyText = UnsafeBufferPointer(rebasing: value[(idBytes * 2 + 1)...])
        guard var bytes = Base64URL.decode(bytes: keyText), bytes.count == keyBytes, let key = try? SecretKey(wiping: &bytes) else {
            return .malformed
        }
        return .handle(id: id, key: key)
    }

    static var handle: (id: String, key: SecretKey)? {
        taken.withLock { if case .handle(let id, let key) = $0 { (id, key) } else { nil } }
    }

    /// Why a session named by `VRM_SESSION` cannot be used.
    struct Ended: Error, CustomStringConvertible {
        let reason: String
        var description: String { "\(Session.variable): \(reason); run `vrm unlock` again (or `unset \(Session.variable)`)" }
    }

    // MARK: The session directory

    /// `$XDG_RUNTIME_DIR/vrm`, created 0700. The runtime directory must be the user's own and
    /// private (the XDG base directory rules): it is what makes a session end at logout.
    static func directory(create: Bool) throws -> String {
        guard let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty else {
            throw CLIError.usage(
                "vrm unlock needs $XDG_RUNTIME_DIR, a private directory that disappears at logout (systemd-logind sets it for login sessions); "
                    + "without one, use --passphrase-file or $VRM_PASSPHRASE_FILE")
        }
        var info = stat()
        guard stat(runtime, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw CLIError(description: "XDG_RUNTIME_DIR (\(runtime)) is not a directory")
        }
        guard info.st_uid == getuid(), info.st_mode & 0o077 == 0 else {
            throw CLIError(description: "XDG_RUNTIME_DIR (\(runtime)) must belong to you and be private (mode 0700); refusing to keep a session there")
        }
        let path = runtime + "/vrm"
        if create, mkdir(path, 0o700) != 0, errno != EEXIST {
            throw CLIError(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        // The session directory itself: a real directory (not a link), ours, private.
        var own = stat()
        if lstat(path, &own) != 0 {
            guard errno == ENOENT, !create else { throw CLIError(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
            return path
        }
        guard (own.st_mode & S_IFMT) == S_IFDIR, own.st_uid == getuid(), own.st_mode & 0o077 == 0 else {
            throw CLIError(description: "\(path) must be a private directory of yours (mode 0700, not a link); refusing to keep a session there")
        }
        return path
    }

    /// Runs `body` holding the session directory's lock, so that a `vrm lock` and a command
    /// moving a session's idle clock on never interleave (a lock is never undone by a write).
    static func locked<T>(_ directory: String, _ body: () throws -> T) throws -> T {
        let fd = open(directory + "/.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError(description: "cannot lock \(directory): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw CLIError(description: "cannot lock \(directory): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    static func filePath(directory: String, id: String) -> String { directory + "/session-" + id }

    // MARK: The session file

    /// The file's content; `sealed_master` is the master key under the session key, its
    /// associated data binding every other field, so an edited file does not open.
    struct Record: Codable {
        var version: Int
        var vaultID: String
        var idleTimeoutSeconds: Int64
        var lastUsedMillis: Int64
        var wrappedKeyDigest: String
        var sealedMaster: String

        enum CodingKeys: String, CodingKey {
            case version
            case vaultID = "vault_id"
            case idleTimeoutSeconds = "idle_timeout_seconds"
            case lastUsedMillis = "last_used_ms"
            case wrappedKeyDigest = "wrapped_key_digest"
            case sealedMaster = "sealed_master"
        }

        func associatedData(id: String) -> [UInt8] {
            var ad = Array("vrm-session-v1\u{0}".utf8) + Array(id.utf8) + [0] + Array(vaultID.utf8) + [0] + Array(wrappedKeyDigest.utf8) + [0]
            withUnsafeBytes(of: idleTimeoutSeconds.bigEndian) { ad += $0 }
            withUnsafeBytes(of: lastUsedMillis.bigEndian) { ad += $0 }
            return ad
        }

        var idleTimeout: TimeInterval { TimeInterval(idleTimeoutSeconds) }
        var lastUsed: Date { Millis.date(lastUsedMillis) }
    }

    static func digest(_ wrappedKey: [UInt8]) -> String {
        Base64URL.encode(BLAKE2b.hash([Array("vrm-session-wrapped-key".utf8), wrappedKey]))
    }

    /// Seals `master` into a new session for the vault and returns the `VRM_SESSION` value's
    /// parts: the id, and the session key (printed once, kept nowhere).
    static func start(database: VaultDatabase, master: SecretKey, idleTimeout: TimeInterval, now: Date = Date()) throws -> (id: String, key: SecretKey) {
        let directory = try directory(create: true)
        let id = Hex.encode(Random.bytes(idBytes))
        let key = try SecretKey.random(count: keyBytes)
        try locked(directory) {
            sweep(directory: directory, now: now)
            try write(
                master: master, key: key, id: id, directory: directory,
                record: Record(
                    version: 1, vaultID: database.header.vaultIDHex, idleTimeoutSeconds: Int64(idleTimeout), lastUsedMillis: Millis.from(now),
                    wrappedKeyDigest: digest(database.header.wrappedKey), sealedMaster: ""))
        }
        return (id, key)
    }

    /// Writes the record with `master` sealed afresh, atomically (a temporary file renamed over it).
    static func write(master: SecretKey, key: SecretKey, id: String, directory: String, record: Record) throws {
        var record = record
        record.sealedMaster = Base64URL.encode(try AEAD.seal(secret: master, key: key, associatedData: record.associatedData(id: id)))
        let data = try JSONEncoder().encode(record)
        let path = filePath(directory: directory, id: id)
        let temporary = path + ".tmp-" + Random.identifier()
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw CLIError(description: "cannot write the session file in \(directory): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == data.count else {
            unlink(temporary)
            throw CLIError(description: "cannot write the session file in \(directory)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIError(description: "cannot write the session file \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The record in a session file: a regular file of ours, read without following links or
    /// blocking on anything planted in its place (a FIFO).
    static func read(path: String) -> Record? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == getuid(), info.st_size < 4096 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return try? JSONDecoder().decode(Record.self, from: Data(buffer[0..<count]))
    }

    /// Overwrites and removes a session file (only a regular file of ours with no other link
    /// is overwritten; anything else is just unlinked).
    static func destroy(path: String) {
        let fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 {
            var info = stat()
            if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == getuid(), info.st_nlink == 1, info.st_size > 0,
                info.st_size < 1 << 16
            {
                let zeros = [UInt8](repeating: 0, count: Int(info.st_size))
                _ = zeros.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
                fsync(fd)
            }
            close(fd)
        }
        unlink(path)
    }

    /// Removes sessions whose idle time is over (and unreadable files): a wrapped key left
    /// behind is useless without its variable, but it need not wait for the next login either.
    static func sweep(directory: String, now: Date, endingVault vaultID: String? = nil) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix("session-") {
            let path = directory + "/" + name
            if name.contains(".tmp-") {
                var info = stat()
                if lstat(path, &info) == 0, now.timeIntervalSince1970 - TimeInterval(info.st_mtim.tv_sec) > 60 { destroy(path: path) }
                continue
            }
            guard let record = read(path: path) else {
                destroy(path: path)
                continue
            }
            if now.timeIntervalSince(record.lastUsed) > record.idleTimeout || record.vaultID == vaultID { destroy(path: path) }
        }
    }

    /// Ends every session of a vault (after its passphrase changed); nothing to do without a
    /// session directory.
    static func endSessions(vaultID: String) {
        guard let directory = try? directory(create: false), access(directory, F_OK) == 0 else { return }
        _ = try? locked(directory) { sweep(directory: directory, now: Date(), endingVault: vaultID) }
    }

    // MARK: Using a session

    enum Outcome {
        /// No `VRM_SESSION`, or one for another vault.
        case none(note: String?)
        case unlocked(Vault)
        case ended(Ended)
    }

    /// Unlocks `database` with the session named by `VRM_SESSION`, moving its idle clock on.
    static func unlock(database: VaultDatabase, now: Date = Date()) throws -> Outcome {
        switch taken.withLock({ $0 }) {
        case .absent: return .none(note: nil)
        case .malformed: return .ended(Ended(reason: "not a session value (it is printed by `vrm unlock`)"))
        case .handle(let id, let key):
            let directory: String
            do { directory = try Self.directory(create: false) } catch { return .ended(Ended(reason: "no session directory: \(error)")) }
            guard access(directory, F_OK) == 0 else { return .ended(Ended(reason: "the session has ended (locked, idle too long, or logged out)")) }
            return try locked(directory) { () throws -> Outcome in
                sweep(directory: directory, now: now)
                let path = filePath(directory: directory, id: id)
                guard var record = read(path: path) else {
                    return .ended(Ended(reason: "the session has ended (locked, idle too long, or logged out)"))
                }
                guard record.vaultID == database.header.vaultIDHex else {
                    return .none(note: "\(variable) belongs to another vault than \(database.path); asking for this vault's passphrase")
                }
                let master: SecretKey
                do {
                    master = try AEAD.openSecret(Base64URL.decode(record.sealedMaster) ?? [], key: key, associatedData: record.associatedData(id: id))
                } catch {
                    destroy(path: path)
                    return .ended(Ended(reason: "the session file does not open with this session key (altered or replaced)"))
                }
                // Another state of the vault (an older copy, or a passphrase changed elsewhere):
                // not this session's; the session itself is left alone.
                guard constantTimeEquals(Array(record.wrappedKeyDigest.utf8), Array(digest(database.header.wrappedKey).utf8)) else {
                    return .ended(Ended(reason: "the vault's passphrase or key changed since `vrm unlock` (or this is another copy of it)"))
                }
                let vault = try Vault.unlock(database: database, master: master, checkpoints: checkpointStore())
                record.lastUsedMillis = Millis.from(now)
                try write(master: master, key: key, id: id, directory: directory, record: record)
                return .unlocked(vault)
            }
        }
    }

    /// Ends the session named by `VRM_SESSION` (or every session with `all`); how many ended.
    static func lock(all: Bool) throws -> Int {
        let directory = try directory(create: false)
        guard access(directory, F_OK) == 0 else { return 0 }
        return try locked(directory) {
            if all {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                let sessions = names.filter { $0.hasPrefix("session-") }
                for name in sessions { destroy(path: directory + "/" + name) }
                return sessions.filter { !$0.contains(".tmp-") }.count
            }
            guard let handle else { return 0 }
            let path = filePath(directory: directory, id: handle.id)
            var info = stat()
            guard lstat(path, &info) == 0 else { return 0 }
            destroy(path: path)
            return 1
        }
    }

    /// Writes `prefix`, the session value and `suffix` to standard output without building
    /// the key's text in a `String`.
    static func printValue(id: String, key: SecretKey, prefix: String, suffix: String) {
        var raw = key.exposedCopy()
        var encoded = Base64URL.encodeToBytes(raw)
        Wipe.bytes(&raw)
        var bytes = [UInt8]()
        bytes.reserveCapacity(prefix.utf8.count + id.utf8.count + 1 + encoded.count + suffix.utf8.count)
        bytes += Array(prefix.utf8) + Array(id.utf8) + [UInt8(ascii: ".")]
        bytes += encoded
        bytes += Array(suffix.utf8)
        Wipe.bytes(&encoded)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(STDOUT_FILENO, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        Wipe.bytes(&bytes)
    }
}
