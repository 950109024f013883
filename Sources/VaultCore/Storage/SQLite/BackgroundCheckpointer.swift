import Dispatch
import GRDB
internal import GRDBSQLite
import Synchronization

/// Checkpoints the WAL on a connection and thread of its own, so that the writer's commits do
/// not carry the checkpoint.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the threshold: it copies
/// the WAL's pages into the main file and fsyncs it while every request waiting on the
/// group-commit writer waits too. Here the writer's WAL hook only notes the WAL's size; once
/// `pages` pages have been committed since the last checkpoint, it asks this checkpointer to
/// run a PASSIVE checkpoint on its own connection. That holds only SQLite's checkpoint lock,
/// which commits do not take, so they go on meanwhile (another checkpoint, such as the CLI's
/// TRUNCATE after a revocation, finds it busy and retries: `VaultDatabase.checkpoint`). A checkpoint that ran while commits went on leaves their pages
/// behind, and SQLite restarts the WAL from its start only once every page is back in the main
/// file; so once the WAL holds `limit` pages, the commit checkpoints itself as SQLite would
/// (the pages left for it are then only those written since the last background run). That
/// bounds the WAL even if the background connection cannot be opened. Durability is unchanged:
/// a commit is durable once its WAL frames are synced, and a checkpoint that stops half-way
/// is completed by the next one.
final class BackgroundCheckpointer: @unchecked Sendable {
    // @unchecked: `connection` is opened and used only on `queue` (and closed at deinit); the
    // rest is constant or atomic.
    private let path: String
    private let pages: Int32
    private let limit: Int32
    private let queue = DispatchQueue(label: "vrm.wal-checkpoint", qos: .utility)
    private var connection: OpaquePointer?
    private let running = Atomic<Bool>(false)
    /// How many of the WAL's frames the last checkpoint found copied into the main file.
    private let backfilled = Atomic<Int32>(0)

    init(path: String, pages: Int, limit: Int) {
        self.path = path
        self.pages = Int32(clamping: max(1, pages))
        self.limit = Int32(clamping: max(pages, limit))
    }

    deinit {
        if let connection { sqlite3_close_v2(connection) }
    }

    /// Installs the hook on the writer connection `db`; SQLite's own automatic checkpoint,
    /// which is a WAL hook too, is replaced by it. The hook holds this checkpointer until
    /// `uninstall(from:)`.
    func install(on db: Database) {
        sqlite3_exec(db.sqliteConnection, "PRAGMA journal_size_limit = \(Int64(limit) * (4096 + 24) + 32)", nil, nil, nil)
        let context = Unmanaged.passRetained(self).toOpaque()
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, writer, _, frames in
                guard let context else { return SQLITE_OK }
                let checkpointer = Unmanaged<BackgroundCheckpointer>.fromOpaque(context).takeUnretainedValue()
                checkpointer.walGrew(to: frames, writer: writer)
                return SQLITE_OK
            }, context)
    }

    /// Puts SQLite's automatic checkpoint back (at its default of 1000 pages) and lets go of
    /// the checkpointer.
    func uninstall(from db: Database) {
        sqlite3_wal_autocheckpoint(db.sqliteConnection, 1000)
        Unmanaged.passUnretained(self).release()
    }

    /// Called by SQLite on the writer's thread after each commit, with the WAL's size in frames.
    private func walGrew(to frames: Int32, writer: OpaquePointer?) {
        // Frames already copied by the last checkpoint need no copying again. A WAL smaller
        // than that has restarted from its start since.
        var copied = backfilled.load(ordering: .relaxed)
        if frames < copied {
            copied = 0
            backfilled.store(0, ordering: .relaxed)
        }
        if frames >= limit {
            // PASSIVE takes no writer lock and never waits: if the background run is busy, it
            // returns at once and the next commit tries again.
            var log: Int32 = 0, done: Int32 = 0
            if sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK, done >= 0 {
                backfilled.store(done, ordering: .relaxed)
            }
        } else if frames - copied >= pages, running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged {
            queue.async { [self] in
                checkpoint()
                running.store(false, ordering: .releasing)
            }
        }
    }

    /// On `queue`. A connection that cannot be opened, or cannot read the WAL, is closed and
    /// tried again at the next run; meanwhile the writer's own checkpoint at `limit` pages
    /// bounds the WAL.
    private func checkpoint() {
        if connection == nil {
            var opened: OpaquePointer?
            let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
            // The checkpoint syncs the main file as a FULL writer would; reading the schema
            // attaches the connection to the WAL (a busy lock is waited for, up to a second).
            guard sqlite3_open_v2(path, &opened, flags, nil) == SQLITE_OK, let opened,
                sqlite3_busy_timeout(opened, 1000) == SQLITE_OK,
                sqlite3_exec(opened, "PRAGMA synchronous = FULL; SELECT count(*) FROM sqlite_schema", nil, nil, nil) == SQLITE_OK
            else {
                sqlite3_close_v2(opened)
                return
            }
            connection = opened
        }
        var log: Int32 = 0, done: Int32 = 0
        if sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK, done >= 0 {
            backfilled.store(done, ordering: .relaxed)
        }
    }
}
