import ArgumentParser
import Foundation
import Hummingbird
import Logging
import VaultCore
import VaultServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Answer vendors' share redemptions over HTTP (no passphrase needed).",
        discussion: """
            The server opens the vault file alone: it never reads a passphrase and never holds the \
            vault key, so it cannot read your profile, records, grant metadata or share history. \
            What it does see: every token a vendor presents, and, to answer a bearer grant, that \
            grant's share, decrypted in memory with a key derived from the presented token \
            (key-bound shares stay sealed to the vendor's key). It checks and counts grants, serves \
            the shares and appends history entries sealed to the vault key: once a run ends, not \
            even that server can read them. The CLI keeps working on the same vault meanwhile.
            Routes: GET /v1/share (Authorization: Bearer TOKEN), GET /.well-known/jwks.json (the \
            vault's share-signing key), GET /v1/notify-key (the key that signs webhook events, \
            certified by the signing key), POST /v1/requests and \
            GET /v1/requests/ID (vendors asking with a request link: `vrm request`), GET /livez, \
            GET /readyz. While it runs it also sends the change events of grants that have a \
            webhook (signed, retried, kept in the vault until delivered), and your own notices of \
            activity (`vrm notify`).
            Access log: one JSON line per request on stderr (the route, never the rest of a path \
            or a query). Stops cleanly on SIGINT/SIGTERM.

            Behind a reverse proxy, name it with --trusted-proxy (an address or CIDR, repeatable): \
            from those peers only, the client is read from Forwarded (RFC 7239) or X-Forwarded-For, \
            so each vendor is rate-limited and recorded by its own address, not the proxy's. \
            Failed redemptions are limited per client address (IPv6: per /64); a client over the \
            limit still gets its share when its token is genuine.
            Needs 64 MiB free on the vault's disk to start (the WAL and its checkpoints); /readyz \
            answers 503 while the vault cannot be written (disk full, read-only file).

            Examples:
              vrm serve
              vrm serve --host 0.0.0.0 --port 8443    # behind a TLS proxy (or use \\
                  --tls-cert)
              vrm serve --trusted-proxy 127.0.0.1 --trusted-proxy 10.0.0.0/8
              vrm serve --host 0.0.0.0 --port 8443 --tls-cert fullchain.pem \\
                  --tls-key privkey.pem
            """)
    @OptionGroup var location: VaultLocation
    @OptionGroup var listen: ListenOptions

    func run() async throws {
        let set = ["VRM_PASSPHRASE": PassphraseReader.environmentHadPassphrase, "VRM_PASSPHRASE_FILE": getenv("VRM_PASSPHRASE_FILE") != nil]
        for (name, isSet) in set.sorted(by: { $0.key < $1.key }) where isSet {
            Terminal.note("vrm serve: \(name) is set but ignored — the server never reads a passphrase. Remove it from the server's environment.")
        }
        listen.warnAboutKeyPermissions("vrm serve")
        let database = try location.openDatabase()
        if database.isReadOnly {
            throw CLIError(
                description: "the vault \(database.path) is read-only: vrm serve counts and records every redemption in it, so it must be able to write it")
        }
        if try database.isLinkedToRelay() {
            throw CLIError(
                description: "this vault is linked to a relay, which serves its grants (two endpoints would each count uses); "
                    + "`vrm relay status` says where. Run `vrm relay unlink` to serve it here again.")
        }
        var logger = Logger(label: "vrm.serve", factory: ServerLogHandler.init)
        logger.logLevel = .warning
        let app = try buildApplication(
            database: database,
            options: try listen.serverOptions(defaultPort: 8080),
            logger: logger,
            onServerRunning: { [listen] port in
                Terminal.note("vrm serve: listening on \(listen.scheme)://\(listen.host):\(port) (vault \(database.header.vaultIDHex))")
            })
        defer { AccessLog.flush() }
        // Vendors' webhooks (`Specs/requests.md` §5): what is queued in the vault is sent while
        // the server runs, and picked up again by the next run.
        let deliverer = WebhookDeliverer(store: VaultWebhookStore(database: database))
        let delivering = Task { await deliverer.run() }
        defer { delivering.cancel() }
        // The customer's own notices (`vrm notify`), batched.
        let notifier = CustomerNotifier(source: VaultActivity(database: database))
        let notifying = Task { await notifier.run() }
        defer { notifying.cancel() }
        try await listen.serving(defaultPort: 8080) { try await app.runService() }
        AccessLog.flush()
        Terminal.note("vrm serve: stopped.")
    }
}

/// Where and how a server listens: `vrm serve` and `vrm relay serve` alike.
struct ListenOptions: ParsableArguments {
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one; default 8080, the relay 8090).") var port: Int?
    @Option(help: "Failed redemptions per client per minute before 429.") var maxFailures = 20
    @Option(
        name: .customLong("trusted-proxy"),
        help: ArgumentHelp("A reverse proxy whose Forwarded / X-Forwarded-For names the client (address or CIDR; repeatable).", valueName: "cidr"))
    var trustedProxies: [String] = []
    @Option(help: ArgumentHelp("Serve HTTPS with this PEM certificate chain (with --tls-key).", valueName: "file")) var tlsCert: String?
    @Option(help: ArgumentHelp("The PEM private key of --tls-cert (keep it 0600).", valueName: "file")) var tlsKey: String?

    func validate() throws {
        if let port { guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") } }
        guard maxFailures >= 1 else { throw ValidationError("--max-failures must be at least 1") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        do {
            _ = try TrustedProxies(parsing: trustedProxies)
        } catch {
            throw ValidationError(String(describing: error))
        }
    }

    var scheme: String { tlsCert == nil ? "http" : "https" }

    func serverOptions(defaultPort: Int) throws -> ServerOptions {
        ServerOptions(
            host: host, port: port ?? defaultPort, maxFailures: maxFailures, trustedProxies: try TrustedProxies(parsing: trustedProxies),
            tls: tlsCert.flatMap { cert in tlsKey.map { (certificateChain: cert, privateKey: $0) } })
    }

    /// Runs the server, turning a failure to listen into a plain message: NIO reports a port
    /// in use as `bind(descriptor:ptr:bytes:): Address already in use (errno: 98)`.
    func serving(defaultPort: Int, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            let port = self.port ?? defaultPort
            switch Self.errno(of: error) {
            case EADDRINUSE:
                throw CLIError(
                    description: "port \(port) on \(host) is in use (another server is listening there); choose another with --port, or --port 0 for a free one"
                )
            case EACCES:
                throw CLIError(description: "no permission to listen on port \(port) on \(host) (ports below 1024 need privileges); choose another with --port")
            case EADDRNOTAVAIL:
                throw CLIError(description: "cannot listen on \(host): no such address on this machine; use --host 127.0.0.1 or an address of this machine")
            default:
                throw error
            }
        }
    }

    /// The errno of NIO's `IOError`, from its description `… (errno: 98)` (VaultCLI does not
    /// import NIO, and the code is a computed property that reflection does not see).
    static func errno(of error: any Error) -> Int32? {
        let text = String(describing: error)
        guard let range = text.range(of: "(errno: ", options: .backwards) else { return nil }
        return Int32(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// A TLS key other users can read is worth a warning (the server still starts).
    func warnAboutKeyPermissions(_ command: String) {
        if let tlsKey, let info = try? FileManager.default.attributesOfItem(atPath: tlsKey),
            let mode = info[.posixPermissions] as? Int, mode & 0o077 != 0
        {
            Terminal.note("\(command): warning: \(tlsKey) is open to other users (group or others have access); chmod 600 it.")
        }
    }
}
