import Foundation
import GRDB
import VaultCrypto
import Synchronization

/// The vault's SQLite file, opened through GRDB in WAL mode. Opening needs no passphrase: the
/// server works from this alone. The features see it only through `read` and `write`, which
/// hand them a `StorageTransaction` (the tables); GRDB stays inside the storage layer.
public final class VaultDatabase: Sendable {
    /// The GRDB pool (WAL, `synchronous=FULL` on the writer, `secure_delete=ON`, busy timeout);
    /// a read-only queue for a vault that cannot be written (`isReadOnly`).
    private let pool: any DatabaseWriter
    /// The header as read and checksum-verified at open time.
    public let header: VaultHeader
    /// The path the vault was opened from.
    public let path: String
    /// Set by `checkpointInBackground`; its hook on the writer is removed at deinit.
    private let backgroundCheckpointer = Mutex<BackgroundCheckpointer?>(nil)
    /// The file (or its directory) cannot be written: a backup on read-only media, a file
    /// without write permission. Every read works; a write fails with `VaultError.storage`
    /// saying so.
    public let isReadOnly: Bool

    private init(pool: any DatabaseWriter, header: VaultHeader, path: String, isReadOnly: Bool = false) {
        self.pool = pool
        self.header = header
        self.path = path
        self.isReadOnly = isReadOnly
    }

    static func configuration(readonly: Bool = false) -> Configuration {
        var config = Configuration()
        config.readonly = readonly
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            // Consent and release of data must survive power loss; deleted shares are overwritten.
            if !readonly {
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        return config
    }

    /// Opens an existing vault: checks that it is an SQLite file, that it has our header, that the
    /// format is one this build reads, and that the header checksum holds — before writing anything.
    public static func open(path: String) throws -> VaultDatabase {
        try checkFileShape(path: path)
        // A vault that cannot be written is read through one location, chosen once.
        let readOnly = cannotWrite(path) ? readOnlyLocation(path) : nil
        let header: VaultHeader
        do {
            // A read-only look first, so a foreign file is never converted to WAL or migrated.
            let probe = try DatabaseQueue(path: readOnly ?? path, configuration: configuration(readonly: true))
            header = try probe.read { db in try HeaderTable(db: db).read() }
            try probe.close()
        } catch let error as VaultError {
            throw error
        } catch {
            throw mapOpenError(error, path: path)
        }
        guard header.isIntact else { throw VaultError.corrupt("header checksum mismatch") }
        if let readOnly { return try openReadOnly(path: path, location: readOnly, header: header) }
        do {
            let pool = try DatabasePool(path: path, configuration: configuration())
            // GRDB sets the writer to synchronous=NORMAL when it enables WAL, after
            // prepareDatabase; released data and consent must survive power loss, so back to FULL.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Schema.migrator.migrate(pool)
            return VaultDatabase(pool: pool, header: header, path: path)
        } catch {
            throw mapOpenError(error, path: path)
        }
    }

    /// Whether the vault must be opened read-only: the file has no write permission bits (even
    /// for root), or this user cannot write it or the directory its -wal and -shm files go in.
    static func cannotWrite(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        if info.st_mode & 0o222 == 0 { return true }
        let directory = (path as NSString).deletingLastPathComponent
        return access(path, W_OK) != 0 || access(directory.isEmpty ? "." : directory, W_OK | X_OK) != 0
    }

    /// What a read-only connection opens: the path while a WAL holds pages, else an immutable
    /// `file:` URI (Debian's SQLite is built with `SQLITE_USE_URI`).
    static func readOnlyLocation(_ path: String) -> String {
        var info = stat()
        if stat(path + "-wal", &info) == 0, info.st_size > 0 { return path }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let escaped = absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#%"))) ?? absolute
        return "file:\(escaped)?immutable=1"
    }

    /// Opens a vault that cannot be written, for reading. Without a WAL holding unmerged pages
    /// (the CLI merges it after every write) the connection is immutable: no lock, -wal or -shm
    /// file is created beside the vault, which works on read-only media too. Otherwise a
    /// read-only connection, which needs SQLite's shared-memory file. The schema must already
    /// be this build's.
    static func openReadOnly(path: String, location: String, header: VaultHeader) throws -> VaultDatabase {
        let walHoldsPages = location == path
        do {
            let queue = try DatabaseQueue(path: location, configuration: configuration(readonly: true))
            guard try queue.read({ db in try Schema.migrator.hasCompletedMigrations(db) }) else {
                throw VaultError.storage(
                    "\(path) is read-only and was written by an older build: copy it somewhere writable and open the copy once to upgrade it")
            }
            return VaultDatabase(pool: queue, header: header, path: path, isReadOnly: true)
        } catch let error as VaultError {
            throw error
        } catch let error as DatabaseError where walHoldsPages && error.resultCode == .SQLITE_CANTOPEN {
            throw VaultError.storage(
                "\(path) is read-only and its -wal file holds changes not yet merged; open it once where it can be written (or copy it with its -wal and -shm files)"
            )
        } catch {
            throw mapOpenError(error, path: path)
        }
    }

    /// Creates a new vault file atomically: built in a temporary file beside the target, then
    /// hard-linked into place, which fails rather than overwrite anything already there.
    static func create(path: String, header: VaultHeader) throws -> VaultDatabase {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) || fm.fileExists(atPath: path + "-wal") {
            throw VaultError.vaultExists(path: path)
        }
        let directory = (path as NSString).deletingLastPathComponent
        try VaultPaths.createPrivateDirectory(directory.isEmpty ? "." : directory)
        let temporary = path + ".init-" + Random.identifier()
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { try? fm.removeItem(atPath: temporary + suffix) }
        }
        let folder = directory.isEmpty ? "." : directory
        guard access(folder, W_OK | X_OK) == 0 else {
            throw VaultError.storage("cannot create the vault at \(path): the directory \(folder) is not writable (\(String(cString: strerror(errno))))")
        }
        do {
            let queue = try DatabaseQueue(path: temporary, configuration: configuration())
            try Schema.migrator.migrate(queue)
            try queue.write { db in try HeaderTable(db: db).insert(header) }
            try queue.close()
            chmod(temporary, 0o600)
        } catch {
            throw mapOpenError(error, path: path)
        }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { throw VaultError.vaultExists(path: path) }
            throw VaultError.storage("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        return try open(path: path)
    }

    static func checkFileShape(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw VaultError.noVault(path: path) }
            throw VaultError.corrupt("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw VaultError.corrupt("\(path) is not a regular file") }
        guard info.st_size > 0 else { throw VaultError.corrupt("the file is empty") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw VaultError.corrupt("cannot open \(path) for reading")
        }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 16)) ?? Data()
        guard magic == Data("SQLite format 3\u{0}".utf8) else {
            throw VaultError.corrupt("not an SQLite database")
        }
        guard info.st_size >= 512 else { throw VaultError.corrupt("the file is truncated") }
    }

    /// A write transaction with storage errors mapped to `VaultError`: all or nothing.
    func write<T>(_ body: (StorageTransaction) throws -> T) throws -> T {
        try mapped { try pool.write { db in try body(StorageTransaction(db: db)) } }
    }

    /// `write` for the redemption writer's hot path (`SQLiteRedemptionStore`): BEGIN IMMEDIATE
    /// and COMMIT are cached statements run through SQLite's C API (`RawStatement`) instead of
    /// GRDB's transaction machinery, which prepares them anew each time. Same guarantees: all
    /// or nothing, and on any error the transaction is rolled back before the error is thrown.
    func writeDirect<T>(_ body: (Database) throws -> T) throws -> T {
        try mapped {
            try pool.writeWithoutTransaction { db in
                try RawStatement(db, "BEGIN IMMEDIATE TRANSACTION").run()
                do {
                    let value = try body(db)
                    try RawStatement(db, "COMMIT TRANSACTION").run()
                    return value
                } catch {
                    if db.isInsideTransaction { try? RawStatement(db, "ROLLBACK TRANSACTION").run() }
                    // GRDB refuses to hand back a connection left inside a transaction.
                    if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK TRANSACTION") }
                    throw error
                }
            }
        }
    }

    /// A read with storage errors mapped to `VaultError`.
    func read<T>(_ body: (StorageTransaction) throws -> T) throws -> T {
        try mapped { try pool.read { db in try body(StorageTransaction(db: db)) } }
    }

    /// Runs `body`, mapping SQLite's errors to `VaultError` (ours pass through unchanged).
    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VaultError {
            throw error
        } catch let error as RequestRefusal {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw VaultError.storage(
                "the vault \(path) is read-only (no write permission, or read-only media): it can be read, not changed; nothing was changed")
        } catch {
            throw Self.mapRuntimeError(error)
        }
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL), for tests of durability settings.
    func writerSynchronousMode() throws -> Int? {
        try mapped { try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } }
    }

    /// The server's WAL settings (`Specs/vault-format.md`, "Free space"): a background
    /// checkpoint once 500 pages have been committed since the last one, the writer's own
    /// checkpoint once the WAL holds 4000 pages (about 16 MB).
    public static let walCheckpointPages = 500
    public static let walBoundPages = 4000

    /// The most disk the WAL takes under `walBoundPages`: each frame is a page and a 24-byte header.
    public static var walBoundBytes: Int64 { Int64(walBoundPages) * (4096 + 24) + 32 }

    /// The free space `vrm serve` needs beside the vault to start: the WAL at its bound, as much
    /// again for a checkpoint that copies new pages into the vault file, and 32 MiB for the
    /// vault's own growth (about 100,000 history entries). 64 MiB.
    public static var minimumServerFreeBytes: Int64 {
        let mebibyte: Int64 = 1 << 20
        let needed = 2 * walBoundBytes + 32 * mebibyte
        return ((needed + mebibyte - 1) / mebibyte) * mebibyte
    }

    /// Bytes free (for an unprivileged writer) on the file system that holds the vault; nil
    /// when it cannot be read.
    public func freeBytes() -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let (bytes, overflow) = UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize))
        return overflow ? .max : Int64(clamping: bytes)
    }

    /// Checkpoints the WAL on a background connection once it holds `pages` pages, instead of
    /// inside the writer's commit (`BackgroundCheckpointer`); past `limit` pages the writer
    /// checkpoints itself, so the WAL stays bounded, and a WAL file that grew past the bound
    /// anyway (while a reader held an old snapshot) is truncated back to it at its next restart
    /// (`journal_size_limit`). For the server, whose writer is the group-commit queue.
    public func checkpointInBackground(pages: Int = walCheckpointPages, limit: Int = walBoundPages) throws {
        let checkpointer = BackgroundCheckpointer(path: path, pages: pages, limit: limit)
        try mapped {
            try pool.writeWithoutTransaction { db in
                try backgroundCheckpointer.withLock { current in
                    guard current == nil else { throw VaultError.storage("background checkpoints are already on") }
                    checkpointer.install(on: db)
                    current = checkpointer
                }
            }
        }
    }

    deinit {
        if let checkpointer = backgroundCheckpointer.withLock({ $0.take() }) {
            _ = try? pool.writeWithoutTransaction { db in checkpointer.uninstall(from: db) }
        }
    }

    /// Folds the WAL back into the main file and truncates it, so deleted pages are gone from both.
    /// Best effort: it cannot finish while another connection reads an older snapshot. While
    /// another checkpoint runs (the server's background one takes milliseconds), SQLite answers
    /// busy at once, so that is retried for up to a second.
    public func checkpoint() {
        let started = ContinuousClock.now
        while true {
            let finished: Bool
            do {
                // One row: busy (1 if the checkpoint could not finish), log pages, pages copied.
                finished = try pool.writeWithoutTransaction { db in
                    try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")?[0] as Int? == 0
                }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                finished = false
            } catch {
                return
            }
            guard !finished, ContinuousClock.now - started < .seconds(1) else { return }
            usleep(20_000)
        }
    }

    static func mapOpenError(_ error: any Error, path: String) -> VaultError {
        if let error = error as? VaultError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB: return .corrupt("not an SQLite database")
            case .SQLITE_CORRUPT: return .corrupt("the database structure is damaged")
            case .SQLITE_CANTOPEN: return .storage("cannot open the vault file \(path) (check that it and its directory can be read)")
            case .SQLITE_READONLY: return .storage("\(path) (or its -wal or -shm file beside it) is read-only; nothing was changed")
            default: return mapRuntimeError(error)
            }
        }
        return .storage("unexpected error opening the vault \(path)")
    }

    static func mapRuntimeError(_ error: any Error) -> VaultError {
        if let error = error as? VaultError { return error }
        guard let error = error as? DatabaseError else { return .storage("unexpected storage error") }
        switch error.resultCode {
        case .SQLITE_FULL: return .storage("the disk is full; nothing was changed")
        case .SQLITE_READONLY:
            return .storage("the vault is read-only (no write permission, or read-only media): it can be read, not changed; nothing was changed")
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .storage("the vault is busy (another process holds a lock); try again")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return .corrupt("the database structure is damaged")
        case .SQLITE_CANTOPEN: return .storage("cannot open the vault file")
        case .SQLITE_IOERR: return .storage("I/O error while writing the vault")
        default: return .storage("SQLite error \(error.resultCode.rawValue)")
        }
    }
}
