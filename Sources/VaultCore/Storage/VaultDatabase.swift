public import Foundation
public import GRDB
public import VaultCrypto
import Synchronization

/// The vault's SQLite file, opened through GRDB in WAL mode. Opening needs no passphrase: the
/// server works from this alone.
public final class VaultDatabase: Sendable {
    /// The GRDB pool (WAL, `synchronous=FULL` on the writer, `secure_delete=ON`, busy timeout).
    public let pool: DatabasePool
    /// The header as read and checksum-verified at open time.
    public let header: VaultHeader
    /// The path the vault was opened from.
    public let path: String
    /// Set by `checkpointInBackground`; its hook on the writer is removed at deinit.
    private let backgroundCheckpointer = Mutex<BackgroundCheckpointer?>(nil)

    private init(pool: DatabasePool, header: VaultHeader, path: String) {
        self.pool = pool
        self.header = header
        self.path = path
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
        let header: VaultHeader
        do {
            // A read-only look first, so a foreign file is never converted to WAL or migrated.
            let probe = try DatabaseQueue(path: path, configuration: configuration(readonly: true))
            header = try probe.read { db in try readHeader(db) }
            try probe.close()
        } catch let error as VaultError {
            throw error
        } catch {
            throw mapOpenError(error)
        }
        guard header.isIntact else { throw VaultError.corrupt("header checksum mismatch") }
        do {
            let pool = try DatabasePool(path: path, configuration: configuration())
            // GRDB sets the writer to synchronous=NORMAL when it enables WAL, after
            // prepareDatabase; released data and consent must survive power loss, so back to FULL.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Schema.migrator.migrate(pool)
            return VaultDatabase(pool: pool, header: header, path: path)
        } catch {
            throw mapOpenError(error)
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
        do {
            let queue = try DatabaseQueue(path: temporary, configuration: configuration())
            try Schema.migrator.migrate(queue)
            try queue.write { db in try insertHeader(header, db) }
            try queue.close()
            chmod(temporary, 0o600)
        } catch {
            throw mapOpenError(error)
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

    static func readHeader(_ db: Database) throws -> VaultHeader {
        guard try db.tableExists("vault_header") else {
            throw VaultError.corrupt("not a VRM vault (no vault header)")
        }
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM vault_header WHERE id = 1") else {
            throw VaultError.corrupt("the vault header is missing")
        }
        guard let format = row["format_version"] as Int? else { throw VaultError.corrupt("the vault header is damaged") }
        guard format <= VaultHeader.currentFormat else {
            throw VaultError.corrupt("written by a newer vrm (format \(format); this build reads up to \(VaultHeader.currentFormat))")
        }
        guard format >= 1, (row["kdf_alg"] as String?) == VaultHeader.kdfAlgorithm else {
            throw VaultError.corrupt("unknown vault format or key-derivation algorithm")
        }
        func blob(_ column: String) throws -> [UInt8] {
            guard let data = row[column] as Data? else { throw VaultError.corrupt("the vault header is damaged (\(column))") }
            return Array(data)
        }
        func int64(_ column: String) throws -> Int64 {
            guard let value = row[column] as Int64? else { throw VaultError.corrupt("the vault header is damaged (\(column))") }
            return value
        }
        return VaultHeader(
            formatVersion: format,
            vaultID: try blob("vault_id"),
            kdf: KDFParameters(opsLimit: UInt64(bitPattern: try int64("kdf_ops")), memLimit: UInt64(bitPattern: try int64("kdf_mem"))),
            salt: try blob("salt"),
            wrappedKey: try blob("wrapped_key"),
            boxPublicKey: try blob("box_public_key"),
            signPublicKey: try blob("sign_public_key"),
            boxSecretSealed: try blob("box_secret_sealed"),
            signSecretSealed: try blob("sign_secret_sealed"),
            createdAtMillis: try int64("created_at"),
            checksum: try blob("checksum"))
    }

    static func insertHeader(_ h: VaultHeader, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO vault_header (id, format_version, vault_id, kdf_alg, kdf_ops, kdf_mem, salt, wrapped_key,
                    box_public_key, sign_public_key, box_secret_sealed, sign_secret_sealed, created_at, checksum)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                h.formatVersion, Data(h.vaultID), VaultHeader.kdfAlgorithm,
                Int64(bitPattern: h.kdf.opsLimit), Int64(bitPattern: h.kdf.memLimit),
                Data(h.salt), Data(h.wrappedKey), Data(h.boxPublicKey), Data(h.signPublicKey),
                Data(h.boxSecretSealed), Data(h.signSecretSealed), h.createdAtMillis, Data(h.checksum),
            ])
    }

    /// Rewrites the passphrase-dependent header fields (salt, KDF, wrapped key, checksum).
    func updateWrapping(_ h: VaultHeader) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE vault_header SET kdf_ops = ?, kdf_mem = ?, salt = ?, wrapped_key = ?, checksum = ? WHERE id = 1",
                arguments: [Int64(bitPattern: h.kdf.opsLimit), Int64(bitPattern: h.kdf.memLimit), Data(h.salt), Data(h.wrappedKey), Data(h.checksum)])
        }
    }

    /// A write transaction with storage errors mapped to `VaultError`.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch let error as VaultError {
            throw error
        } catch {
            throw Self.mapRuntimeError(error)
        }
    }

    /// `write` for the redemption writer's hot path: BEGIN IMMEDIATE and COMMIT are cached
    /// statements run through SQLite's C API (`RawStatement`) instead of GRDB's transaction
    /// machinery, which prepares them anew each time. Same guarantees: all or nothing, and on
    /// any error the transaction is rolled back before the error is thrown.
    func writeDirect<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
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
        } catch let error as VaultError {
            throw error
        } catch {
            throw Self.mapRuntimeError(error)
        }
    }

    /// A read with storage errors mapped to `VaultError`.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as VaultError {
            throw error
        } catch {
            throw Self.mapRuntimeError(error)
        }
    }

    /// Checkpoints the WAL on a background connection once it holds `pages` pages, instead of
    /// inside the writer's commit (`BackgroundCheckpointer`); past `limit` pages the writer
    /// checkpoints itself, so the WAL stays bounded. For the server, whose writer is the
    /// group-commit queue.
    public func checkpointInBackground(pages: Int, limit: Int) throws {
        let checkpointer = BackgroundCheckpointer(path: path, pages: pages, limit: limit)
        do {
            try pool.writeWithoutTransaction { db in
                try backgroundCheckpointer.withLock { current in
                    guard current == nil else { throw VaultError.storage("background checkpoints are already on") }
                    checkpointer.install(on: db)
                    current = checkpointer
                }
            }
        } catch {
            throw Self.mapRuntimeError(error)
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

    static func mapOpenError(_ error: any Error) -> VaultError {
        if let error = error as? VaultError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB: return .corrupt("not an SQLite database")
            case .SQLITE_CORRUPT: return .corrupt("the database structure is damaged")
            default: return mapRuntimeError(error)
            }
        }
        return .storage("unexpected error opening the vault")
    }

    static func mapRuntimeError(_ error: any Error) -> VaultError {
        if let error = error as? VaultError { return error }
        guard let error = error as? DatabaseError else { return .storage("unexpected storage error") }
        switch error.resultCode {
        case .SQLITE_FULL: return .storage("the disk is full; nothing was changed")
        case .SQLITE_READONLY: return .storage("the vault file (or its -wal or -shm file beside it) is read-only; nothing was changed")
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .storage("the vault is busy (another process holds a lock); try again")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return .corrupt("the database structure is damaged")
        case .SQLITE_CANTOPEN: return .storage("cannot open the vault file")
        case .SQLITE_IOERR: return .storage("I/O error while writing the vault")
        default: return .storage("SQLite error \(error.resultCode.rawValue)")
        }
    }
}
