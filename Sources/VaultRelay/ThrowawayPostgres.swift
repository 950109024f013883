import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of its own in a temporary directory, for tests, `vrm demo --relay` and
/// the benchmarks: `initdb` and `postgres` from Debian's `postgresql` package, run as the
/// `postgres` user when this process is root, listening on 127.0.0.1 at a free port and on a
/// socket in the directory. `stop()` (or the end of the process) stops it and deletes it.
public final class ThrowawayPostgres: Sendable {
    public let directory: String
    public let port: Int
    /// The database URL (trust authentication on the socket and loopback; no password).
    public var url: String { "postgres://vrm@127.0.0.1:\(port)/postgres?sslmode=disable" }
    /// The same cluster through its Unix socket.
    public var socketURL: String { "postgres://vrm@/postgres?host=\(directory)&port=\(port)" }
    private let binaries: String
    private let stopped = Mutex(false)

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Where Debian puts the server binaries (the newest version), or the PATH's.
    static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(directory)/initdb") && FileManager.default.isExecutableFile(atPath: "\(directory)/postgres") {
            return String(directory)
        }
        throw Unavailable(
            description:
                "PostgreSQL's server binaries (initdb, postgres) are not installed: run `sudo apt-get install -y postgresql` (the README's first command does)")
    }

    /// Starts a new cluster; throws `Unavailable` (saying what to install) when PostgreSQL is absent.
    public static func start() throws -> ThrowawayPostgres {
        let binaries = try findBinaries()
        let template = NSTemporaryDirectory() + "vrm-pg-XXXXXX"
        var path = Array(template.utf8CString)
        guard mkdtemp(&path) != nil else { throw Unavailable(description: "cannot make a temporary directory under \(NSTemporaryDirectory())") }
        let directory = String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let asRoot = geteuid() == 0
        if asRoot {
            guard let user = getpwnam("postgres") else {
                throw Unavailable(description: "running as root, and there is no `postgres` user to run PostgreSQL as (install `postgresql`)")
            }
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        let port = try freePort()
        let cluster = ThrowawayPostgres(directory: directory, port: port, binaries: binaries)
        do {
            try cluster.run(
                "'\(binaries)/initdb' -D '\(directory)/data' -U vrm --auth=trust -E UTF8 --no-sync >'\(directory)/initdb.log' 2>&1")
            // Detached (its own session, every descriptor on a file): nothing of this process
            // waits on it, and it outlives no one — `stop` and the exit hook end it.
            try cluster.run(
                "setsid -f '\(binaries)/postgres' -D '\(directory)/data' -k '\(directory)' -p \(port) -h 127.0.0.1 "
                    + "-c max_connections=200 -c shared_buffers=128MB </dev/null >'\(directory)/server.log' 2>&1")
            try cluster.waitUntilReady()
        } catch {
            cluster.stop()
            throw error
        }
        Self.started.withLock { $0.append(cluster) }
        Self.installExitHook()
        return cluster
    }

    init(directory: String, port: Int, binaries: String) {
        self.directory = directory
        self.port = port
        self.binaries = binaries
    }

    deinit {
        stop()
    }

    /// `pg_dump` of the whole database, as text: what an operator (or a thief of the disk) holds.
    public func dump() throws -> String {
        let file = "\(directory)/dump.sql"
        try run("'\(binaries)/pg_dump' -h '\(directory)' -p \(port) -U vrm --inserts postgres >'\(file)' 2>'\(directory)/dump.log'")
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    /// Runs SQL with `psql` and returns its unaligned output: for tests that play a relay
    /// operator who changes the database behind the relay's back.
    public func psql(_ sql: String) throws -> String {
        let input = "\(directory)/input.sql", output = "\(directory)/output.txt"
        try sql.write(toFile: input, atomically: true, encoding: .utf8)
        try run("'\(binaries)/psql' -h '\(directory)' -p \(port) -U vrm -d postgres -v ON_ERROR_STOP=1 -qAt -f '\(input)' >'\(output)' 2>&1")
        defer { try? FileManager.default.removeItem(atPath: output) }
        return try String(contentsOfFile: output, encoding: .utf8)
    }

    /// Stops the server at once and deletes its directory.
    public func stop() {
        guard
            stopped.withLock({ old in
                defer { old = true }
                return !old
            })
        else { return }
        try? run("'\(binaries)/pg_ctl' -D '\(directory)/data' -m immediate -w -t 20 stop >/dev/null 2>&1")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a shell command, as `postgres` when this process is root; throws with the log when it fails.
    /// Spawned and reaped by hand (`posix_spawn`, `waitpid`): Foundation's `Process` watches for
    /// the end of a child through a descriptor it inherits, which the detached server would
    /// keep open for its whole life.
    private func run(_ command: String) throws {
        let argv = geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", "/bin/sh", "-c", command] : ["/bin/sh", "-c", command]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var cStrings = argv.map { strdup($0) }
        defer { for pointer in cStrings { free(pointer) } }
        cStrings.append(nil)
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cStrings, environ)
        guard spawned == 0 else { throw Unavailable(description: "cannot run \(argv[0]) (errno \(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED and WEXITSTATUS, spelled out (they are macros in C).
        let exited = status & 0x7f == 0
        guard exited, (status >> 8) & 0xff == 0 else {
            let log = ["initdb.log", "server.log", "dump.log"].compactMap { try? String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8) }.joined()
            throw Unavailable(description: "PostgreSQL's \(command.prefix(60))… failed: \(log.suffix(600))")
        }
    }

    /// Until `pg_isready` says the server accepts connections (it answers "starting up" first).
    /// Up to 3 minutes: a 2-core machine running the whole test suite (headless browsers, other
    /// clusters) has taken over a minute to start one.
    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: "\(directory)/.s.PGSQL.\(port)"),
                (try? run("'\(binaries)/pg_isready' -q -h 127.0.0.1 -p \(port) -U vrm -d postgres")) != nil
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? ""
        throw Unavailable(description: "PostgreSQL did not come up within 180 s: \(log.suffix(600))")
    }

    /// A port nothing listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unavailable(description: "cannot open a socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Unavailable(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static let started = Mutex<[ThrowawayPostgres]>([])
    private static let hooked = Mutex(false)

    /// Clusters still running when the process exits are stopped then.
    private static func installExitHook() {
        let install = hooked.withLock { hooked in
            defer { hooked = true }
            return !hooked
        }
        guard install else { return }
        atexit {
            let clusters = ThrowawayPostgres.started.withLock { $0 }
            for cluster in clusters { cluster.stop() }
        }
    }
}
