import Dispatch
public import Foundation
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization
import VaultCore
import VaultCrypto

/// Why a relay operation failed, in words an operator can act on. Never carries a password.
public enum RelayError: Error, Equatable, CustomStringConvertible {
    /// PostgreSQL could not be reached or refused the login.
    case unreachable(String)
    /// A statement failed.
    case database(String)
    /// The database URL is not one the relay takes.
    case badLocation(String)
    /// The vault is not (or no longer) on the relay.
    case unknownVault
    /// The vault's X25519 key changed since this node read it (a key rotation).
    case boxKeyChanged
    case invalidInvite
    case alreadyEnrolled
    /// A pushed grant is not well-formed, or collides with another vault's.
    case invalidGrant(String)

    public var description: String {
        switch self {
        case .unreachable(let text): "cannot reach the relay's PostgreSQL: \(text)"
        case .database(let text): "the relay's PostgreSQL failed: \(text)"
        case .badLocation(let text): "bad relay database URL: \(text)"
        case .unknownVault: "the relay holds no such vault"
        case .boxKeyChanged: "the vault's key changed; read it again"
        case .invalidInvite: "the invite code is unknown, used or expired"
        case .alreadyEnrolled: "the vault is enrolled on this relay already"
        case .invalidGrant(let text): "invalid grant: \(text)"
        }
    }
}

/// Where the relay's PostgreSQL is: `postgres://USER@HOST:PORT/DB` (`?host=/socket/dir` for a
/// Unix socket, `?sslmode=disable|prefer|require`). The password comes from the URL only when the
/// URL came from the environment (`VRM_RELAY_DATABASE_URL`), or from `PGPASSWORD`: never argv.
public struct RelayDatabaseLocation: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    /// A directory holding PostgreSQL's socket (`.s.PGSQL.PORT`); nil for TCP.
    public var socketDirectory: String?
    public var user: String
    public var database: String
    var password: String?
    public var tls: TLSMode

    /// Parses a URL. `allowPassword`: false for a URL from the command line.
    public static func parse(_ text: String, allowPassword: Bool, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> RelayDatabaseLocation
    {
        guard let components = URLComponents(string: text), let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw RelayError.badLocation("expected postgres://USER@HOST:PORT/DATABASE")
        }
        if components.password != nil, !allowPassword {
            throw RelayError.badLocation(
                "a password on the command line is visible to every user of this machine; set PGPASSWORD or VRM_RELAY_DATABASE_URL instead")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 } ?? query["user"] ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        var database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        if database.isEmpty { database = query["dbname"] ?? user }
        let socket = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
        guard (1...65535).contains(port) else { throw RelayError.badLocation("port \(port) is out of range") }
        // TLS to PostgreSQL unless it is on this machine (a "prefer" can be downgraded on the way).
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        let mode = query["sslmode"] ?? (loopback ? "prefer" : "require")
        guard let tls = TLSMode(rawValue: mode == "allow" ? "prefer" : mode == "verify-full" || mode == "verify-ca" ? "require" : mode) else {
            throw RelayError.badLocation("sslmode must be disable, prefer or require")
        }
        return RelayDatabaseLocation(
            host: host, port: port, socketDirectory: socket, user: user, database: database,
            password: components.password?.removingPercentEncoding ?? environment["PGPASSWORD"], tls: socket == nil ? tls : .disable)
    }

    /// Without the password.
    public var description: String {
        if let socketDirectory { return "postgres://\(user)@/\(database)?host=\(socketDirectory)&port=\(port)" }
        return "postgres://\(user)@\(host):\(port)/\(database)"
    }

    func configuration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let mode: PostgresConnection.Configuration.TLS
            switch tls {
            case .disable: mode = .disable
            case .prefer: mode = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: mode = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: mode)
        }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}

/// One connection's statements, blocking: they run on the relay's own threads (the
/// group-commit writers, the control routes' offload queue), never on an event loop.
struct RelayConnection {
    let connection: PostgresConnection
    let logger: Logger

    @discardableResult
    func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try connection.query(query, logger: logger).wait()
        } catch let error as PSQLError {
            throw RelayDatabase.translate(error)
        }
    }

    func execute(_ sql: String) throws {
        try query(PostgresQuery(unsafeSQL: sql))
    }

    /// Sends `queries` back to back — the connection starts each as soon as the one before it
    /// is done, without a round trip through this thread — then waits for all of them and
    /// throws the first failure. In a transaction, a statement after a failed one fails too,
    /// and a `COMMIT` after it rolls back.
    @discardableResult
    func pipeline(_ queries: [PostgresQuery]) throws -> [PostgresQueryResult] {
        let futures = queries.map { connection.query($0, logger: logger) }
        var results: [PostgresQueryResult] = []
        var failure: (any Error)?
        for future in futures {
            do {
                results.append(try future.wait())
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let error = failure as? PSQLError { throw RelayDatabase.translate(error) }
        if let failure { throw failure }
        return results
    }

    /// Several statements, one after another (the schema; none holds a `;` inside).
    func script(_ sql: String) throws {
        for statement in sql.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
            try execute(String(statement))
        }
    }
}

/// The relay's store: PostgreSQL through postgres-nio, a small pool of connections, the
/// schema and every statement the relay runs (the only code that sees SQL or PostgresNIO).
public final class RelayDatabase: Sendable {
    public let location: RelayDatabaseLocation
    let configuration: PostgresConnection.Configuration
    let logger: Logger
    let size: Int
    private let idle = Mutex<[PostgresConnection]>([])
    private let open = Mutex(0)
    private let available: DispatchSemaphore
    private let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

    /// Connects lazily, up to `poolSize` connections.
    public convenience init(location: RelayDatabaseLocation, poolSize: Int = 8, logger: Logger = Logger(label: "vrm.relay.database")) throws {
        // What can fail comes first: an initializer that throws after its `Mutex` properties
        // are set crashes the Swift 6.3 optimizer (release builds) as it undoes them.
        let configuration = try location.configuration()
        self.init(location: location, configuration: configuration, poolSize: poolSize, logger: logger)
    }

    private init(location: RelayDatabaseLocation, configuration: PostgresConnection.Configuration, poolSize: Int, logger: Logger) {
        self.location = location
        self.configuration = configuration
        self.logger = logger
        self.size = max(1, poolSize)
        self.available = DispatchSemaphore(value: max(1, poolSize))
    }

    /// Starts closing what is still open, without waiting (a deinit may run anywhere, even on
    /// an event loop, where waiting is not allowed).
    deinit {
        for connection in idle.withLock({ $0 }) { connection.close().whenComplete { _ in } }
    }

    /// Closes every idle connection, waiting for each (not on an event loop).
    public func close() {
        let connections = idle.withLock { idle in
            defer { idle.removeAll() }
            return idle
        }
        for connection in connections { try? connection.close().wait() }
    }

    static func translate(_ error: PSQLError) -> RelayError {
        if let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = info[.message] ?? "error"
            if state.hasPrefix("08") || state == "57P01" || state == "57P03" || state.hasPrefix("28") || state == "3D000" {
                return .unreachable("\(message) (SQLSTATE \(state))")
            }
            return .database("\(message) (SQLSTATE \(state))")
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .sslUnsupported,
            .failedToAddSSLHandler, .authMechanismRequiresPassword, .unsupportedAuthMechanism, .saslError:
            return .unreachable(error.underlying.map { String(describing: $0) } ?? "\(error.code)")
        default:
            return .database("\(error.code)")
        }
    }

    private func connect() throws -> PostgresConnection {
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(on: group.next(), configuration: configuration, id: 1, logger: logger).wait()
        } catch let error as PSQLError {
            switch Self.translate(error) {
            case .unreachable(let text), .database(let text): throw RelayError.unreachable("\(text) at \(location)")
            case let other: throw other
            }
        } catch {
            throw RelayError.unreachable("\(error) at \(location)")
        }
        // Durable before answering: a redemption's commit must be on disk (and on a
        // synchronous replica, where the operator configured one) before its share is sent.
        let relay = RelayConnection(connection: connection, logger: logger)
        do {
            try relay.execute("SET synchronous_commit = on")
        } catch {
            try? connection.close().wait()
            throw error
        }
        return connection
    }

    /// Runs `body` with a pooled connection; a connection that failed is closed, not reused.
    func withConnection<T>(_ body: (RelayConnection) throws -> T) throws -> T {
        available.wait()
        defer { available.signal() }
        var connection = idle.withLock { $0.popLast() }
        if connection?.isClosed == true { connection = nil }
        let live = try connection ?? connect()
        do {
            let result = try body(RelayConnection(connection: live, logger: logger))
            idle.withLock { $0.append(live) }
            return result
        } catch {
            if case RelayError.unreachable = error { try? live.close().wait() } else if !live.isClosed { idle.withLock { $0.append(live) } }
            throw error
        }
    }

    /// Runs `body` in one transaction, committed (durably) before this returns; rolled back on
    /// any error.
    func transaction<T>(_ body: (RelayConnection) throws -> T) throws -> T {
        try withConnection { connection in
            try connection.execute("BEGIN")
            do {
                let result = try body(connection)
                try connection.execute("COMMIT")
                return result
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Whether PostgreSQL answers now (`/readyz`).
    public func ping() -> Bool {
        (try? withConnection { try $0.execute("SELECT 1") }) != nil
    }

    // MARK: - Schema

    static let schemaVersion: Int64 = 2

    /// Creates or upgrades the schema; several nodes starting at once take turns (an advisory lock).
    public func migrate() throws {
        try transaction { c in
            try c.execute("SELECT pg_advisory_xact_lock(727274)")
            try c.execute("CREATE TABLE IF NOT EXISTS relay_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)")
            let rows = try c.query("SELECT value FROM relay_meta WHERE key = 'schema'").rows
            let current = try rows.first?.decode(Int64.self) ?? 0
            guard current < Self.schemaVersion else {
                if current > Self.schemaVersion {
                    throw RelayError.database("the relay database has schema \(current); this vrm knows \(Self.schemaVersion) (upgrade vrm)")
                }
                return
            }
            if current < 1 { try c.script(Self.schemaV1) }
            if current < 2 { try c.script(Self.schemaV2) }
            try c.execute("INSERT INTO relay_meta (key, value) VALUES ('schema', \(Self.schemaVersion)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
        }
    }

    /// Times are Unix milliseconds; bytes are `bytea`. Nothing here is personal: ids, keys,
    /// hashes, policy numbers and ciphertext (`Specs/relay.md`, What the relay holds).
    static let schemaV1 = """
        CREATE TABLE relay_invites (
            code_hash BYTEA PRIMARY KEY,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        CREATE TABLE relay_vaults (
            id BYTEA PRIMARY KEY,
            sign_key BYTEA NOT NULL,
            box_key BYTEA NOT NULL,
            enrolled_at BIGINT NOT NULL,
            tip_seq BIGINT NOT NULL DEFAULT 0,
            tip_hash BYTEA NOT NULL
        );
        CREATE TABLE relay_grants (
            selector BYTEA PRIMARY KEY,
            vault_id BYTEA NOT NULL REFERENCES relay_vaults(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            secret_hash BYTEA NOT NULL,
            binding TEXT NOT NULL,
            expires_at BIGINT,
            max_uses BIGINT,
            use_count BIGINT NOT NULL,
            revoked_at BIGINT,
            share_version BIGINT NOT NULL,
            share_body BYTEA,
            binds_policy BOOLEAN NOT NULL,
            UNIQUE (vault_id, id)
        );
        CREATE INDEX relay_grants_live ON relay_grants (expires_at) WHERE share_body IS NOT NULL;
        CREATE TABLE relay_writers (
            vault_id BYTEA NOT NULL REFERENCES relay_vaults(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            public_key BYTEA NOT NULL,
            PRIMARY KEY (vault_id, id)
        );
        CREATE TABLE relay_entries (
            vault_id BYTEA NOT NULL REFERENCES relay_vaults(id) ON DELETE CASCADE,
            seq BIGINT NOT NULL,
            at_millis BIGINT NOT NULL,
            event TEXT NOT NULL,
            writer_id TEXT NOT NULL,
            body BYTEA NOT NULL,
            hash BYTEA NOT NULL,
            PRIMARY KEY (vault_id, seq)
        );
        CREATE TABLE relay_nonces (
            vault_id BYTEA NOT NULL,
            nonce BYTEA NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (vault_id, nonce)
        );
        CREATE INDEX relay_nonces_expiry ON relay_nonces (expires_at);
        """

    /// Access requests (`Specs/requests.md`): links (selector, code hash, expiry) and the
    /// requests sent with them, sealed to the vault; the customer's decisions with the token
    /// sealed to the vendor's key.
    static let schemaV2 = """
        CREATE TABLE relay_request_links (
            selector BYTEA PRIMARY KEY,
            vault_id BYTEA NOT NULL REFERENCES relay_vaults(id) ON DELETE CASCADE,
            code_hash BYTEA NOT NULL,
            expires_at BIGINT NOT NULL,
            used_at BIGINT
        );
        CREATE TABLE relay_requests (
            id TEXT PRIMARY KEY,
            vault_id BYTEA NOT NULL REFERENCES relay_vaults(id) ON DELETE CASCADE,
            link_selector BYTEA NOT NULL,
            link_expires_at BIGINT NOT NULL,
            sealed BYTEA NOT NULL,
            proof BYTEA NOT NULL,
            received_at BIGINT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            decided_at BIGINT,
            grant_id TEXT,
            endpoint TEXT,
            token_sealed BYTEA
        );
        CREATE INDEX relay_requests_vault ON relay_requests (vault_id, status);
        ALTER TABLE relay_requests ADD COLUMN seq BIGSERIAL;
        ALTER TABLE relay_grants ADD COLUMN notify_url TEXT;
        ALTER TABLE relay_vaults ADD COLUMN notify_key_id TEXT;
        ALTER TABLE relay_vaults ADD COLUMN notify_public BYTEA;
        ALTER TABLE relay_vaults ADD COLUMN notify_secret BYTEA;
        ALTER TABLE relay_vaults ADD COLUMN notify_certificate TEXT;
        ALTER TABLE relay_vaults ADD COLUMN customer_kind TEXT;
        ALTER TABLE relay_vaults ADD COLUMN customer_url TEXT;
        ALTER TABLE relay_vaults ADD COLUMN customer_interval BIGINT;
        ALTER TABLE relay_vaults ADD COLUMN notice_state TEXT;
        ALTER TABLE relay_vaults ADD COLUMN notice_claimed_until BIGINT;
        CREATE TABLE relay_webhooks (
            id TEXT PRIMARY KEY,
            vault_id BYTEA NOT NULL REFERENCES relay_vaults(id) ON DELETE CASCADE,
            grant_id TEXT NOT NULL,
            url TEXT NOT NULL,
            body BYTEA NOT NULL,
            created_at BIGINT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at BIGINT NOT NULL,
            last_status INTEGER,
            last_error TEXT,
            delivered_at BIGINT,
            stopped_at BIGINT
        );
        CREATE INDEX relay_webhooks_due ON relay_webhooks (next_at) WHERE delivered_at IS NULL AND stopped_at IS NULL;
        """
}

extension Data {
    var bytes: [UInt8] { [UInt8](self) }
}
