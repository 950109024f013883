import ArgumentParser
import Foundation
import Hummingbird
import Logging
import VaultCore
import VaultCrypto
import VaultRelay
import VaultServer

/// `vrm relay …`: run a relay (operator), and link a vault to one (customer).
struct RelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "An always-on relay that answers vendors while your machine is away, and cannot read your data.",
        discussion: """
            A relay holds what `vrm serve` holds for the grants pushed to it — selectors, secret \
            hashes, policy, sealed shares, sealed history entries — in PostgreSQL, for many vaults. \
            Vendors redeem there with the same token and the same GET /v1/share; the relay never \
            holds a vault key. While a vault is linked, the relay alone serves its grants (so use \
            limits stay exact): `vrm serve` refuses to serve a linked vault. See Specs/relay.md.

            Operator:
              export VRM_RELAY_DATABASE_URL=postgres://vrm@db.example/vrm_relay
              vrm relay serve --host 0.0.0.0 --port 8443 --tls-cert fullchain.pem \\
                  --tls-key privkey.pem
              vrm relay invite                       # a one-time enrolment code for one customer
            Customer:
              vrm relay link https://relay.example:8443 --invite vrmi_…
              vrm relay status
              vrm relay sync                         # the relay's redemptions into `vrm audit`
              vrm relay unlink
            """,
        subcommands: [Serve.self, Invite.self, Link.self, Sync.self, Status.self, Unlink.self])

    /// `--database URL`, else `$VRM_RELAY_DATABASE_URL`.
    struct DatabaseOptions: ParsableArguments {
        @Option(
            help: ArgumentHelp(
                "The relay's PostgreSQL: postgres://USER@HOST:PORT/DB (else $VRM_RELAY_DATABASE_URL; a password goes in PGPASSWORD or that variable, never here).",
                valueName: "url"))
        var database: String?

        func open(poolSize: Int = 8) throws -> RelayDatabase {
            let environment = ProcessInfo.processInfo.environment
            let location: RelayDatabaseLocation
            if let database {
                location = try RelayDatabaseLocation.parse(database, allowPassword: false, environment: environment)
            } else if let url = environment["VRM_RELAY_DATABASE_URL"], !url.isEmpty {
                location = try RelayDatabaseLocation.parse(url, allowPassword: true, environment: environment)
            } else {
                throw CLIError.usage("name the relay's database: --database postgres://USER@HOST:PORT/DB or $VRM_RELAY_DATABASE_URL")
            }
            return try RelayDatabase(location: location, poolSize: poolSize)
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a relay node (no passphrase; many vaults; PostgreSQL).",
            discussion: """
                Migrates the database on start (several nodes may start at once), then answers \
                GET /v1/share for every enrolled vault, GET /.well-known/jwks.json and \
                GET /v1/notify-key (of the presented token's vault), POST /v1/requests and \
                GET /v1/requests/ID (vendors asking with a request link), /livez, /readyz (503 while \
                PostgreSQL does not answer) and the signed control API of Specs/relay.md. Every node \
                also sends the vaults' webhook events (signed, retried) and their customers' notices \
                (Specs/requests.md) — to https URLs, never to private addresses, and to the relay's \
                own machine (127.x, localhost) only with --allow-loopback-receivers, so that a vault \
                cannot have the relay POST to services on its host. Nodes keep no state of their \
                own: run several behind a load balancer over one PostgreSQL primary. Access-log \
                lines (stderr) name no client address. Expired grants' shares are destroyed every \
                few seconds; revoked and used-up ones at once.

                Examples:
                  VRM_RELAY_DATABASE_URL=postgres://vrm@127.0.0.1/vrm_relay vrm relay serve \\
                      --port 8090
                  vrm relay serve --database postgres://vrm@db/vrm_relay --host 0.0.0.0 --port 8443 \\
                      --tls-cert fullchain.pem --tls-key privkey.pem --trusted-proxy 10.0.0.0/8
                  vrm relay serve --port 8090 --allow-loopback-receivers   # tried out on one machine
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var listen: ListenOptions
        @Option(help: "PostgreSQL connections this node keeps at most.") var pool = 16
        @Flag(
            help: ArgumentHelp(
                "Also send webhooks and notices to this machine's own addresses (127.x, localhost): for a relay tried out on one machine, never on a shared host."
            ))
        var allowLoopbackReceivers = false

        func validate() throws {
            guard (1...512).contains(pool) else { throw ValidationError("--pool must be 1-512") }
        }

        func run() async throws {
            let relay = try database.open(poolSize: pool)
            defer { relay.close() }
            try relay.migrate()
            var logger = Logger(label: "vrm.relay", factory: ServerLogHandler.init)
            logger.logLevel = .warning
            listen.warnAboutKeyPermissions("vrm relay serve")
            let sweeper = RelaySweeper(database: relay, logger: logger)
            defer { sweeper.stop() }
            // Vendors' webhook events and customers' notices (`Specs/requests.md` §5–6).
            let notifier = RelayNotifier(database: relay, allowLoopback: allowLoopbackReceivers)
            let notifying = Task { await notifier.run() }
            defer { notifying.cancel() }
            let app = try buildRelayApplication(
                database: relay,
                options: try listen.serverOptions(defaultPort: 8090),
                logger: logger,
                onServerRunning: { [listen] port in
                    Terminal.note("vrm relay: listening on \(listen.scheme)://\(listen.host):\(port) (database \(relay.location))")
                })
            defer { AccessLog.flush() }
            try await listen.serving(defaultPort: 8090) { try await app.runService() }
            AccessLog.flush()
            Terminal.note("vrm relay: stopped.")
        }
    }

    struct Invite: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a one-time enrolment code (operator, on the relay's database).",
            discussion: """
                Give the code to one customer; `vrm relay link URL --invite CODE` uses it up. The \
                database keeps only its hash.

                Examples:
                  vrm relay invite
                  vrm relay invite --expires 24h --json
                """)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "How long the code stays valid (e.g. 24h, 7d).") var expires = "7d"
        @OptionGroup var output: OutputOptions

        func run() throws {
            let now = Date()
            guard let until = try TimeParsing.expiry(expires, now: now), until > now else {
                throw CLIError.usage("--expires must be a duration in the future, e.g. 7d")
            }
            let relay = try database.open(poolSize: 1)
            defer { relay.close() }
            try relay.migrate()
            let code = RelayInvite.generate()
            try relay.createInvite(codeHash: RelayInvite.hash(code), nowMillis: Millis.from(now), expiresAt: Millis.from(until))
            if output.json {
                print(try Terminal.json(["invite": code, "expires_at": Timestamp.string(until)]))
            } else {
                print("Invite code (valid until \(Timestamp.string(until)), one use):")
                print("  \(code)")
            }
        }
    }

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol this vault on a relay and push every grant.",
            discussion: """
                The vault's signing key becomes its identity on the relay; every later request is \
                signed with it and cannot be replayed. After linking, the relay serves this vault's \
                grants: hand vendors the relay's URL (grant cards name it once VRM_ENDPOINT or \
                --endpoint does), and stop `vrm serve` for this vault — it refuses to serve a linked \
                vault, so use limits stay exact.
                The invite comes from --invite, $VRM_RELAY_INVITE, or --invite-file.

                Examples:
                  vrm relay link https://relay.example:8443 --invite vrmi_…
                  VRM_RELAY_INVITE=vrmi_… vrm relay link http://127.0.0.1:8090
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The relay's base URL.") var url: String
        @Option(help: "The one-time invite code from the relay's operator.") var invite: String?
        @Option(help: ArgumentHelp("Read the invite code from this file (- for standard input).", valueName: "path")) var inviteFile: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let relayURL = try RelayClient.parseURL(url)
            let code: String
            if let invite {
                Terminal.note("vrm relay link: warning: --invite puts the code in the process list; prefer --invite-file or VRM_RELAY_INVITE.")
                code = invite
            } else if let inviteFile {
                if inviteFile == StandardStreams.name, StandardStreams.passphraseReadsStandardInput(unlock) {
                    throw CLIError.usage("standard input cannot be both the invite and the passphrase file")
                }
                let data = try StandardStreams.read(inviteFile, what: "the invite file", limit: 4096)
                code = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let fromEnvironment = ProcessInfo.processInfo.environment["VRM_RELAY_INVITE"], !fromEnvironment.isEmpty {
                code = fromEnvironment
            } else {
                throw CLIError.usage("give the relay operator's invite code: --invite CODE, --invite-file PATH or $VRM_RELAY_INVITE")
            }
            let vault = try unlock.unlock(location)
            if let state = try vault.relay.state() {
                throw CLIError(description: "this vault is linked to \(state.url) already; `vrm relay unlink` first")
            }
            let client = RelayClient(baseURL: relayURL, vaultID: vault.database.header.vaultID, signing: vault.keys.signing)
            do {
                try await client.enrol(invite: code, boxKey: vault.database.header.boxPublicKey)
            } catch RelayClientError.refused(let status, let problem, _) where problem == "already-enrolled" {
                throw CLIError(description: "the relay holds this vault already (HTTP \(status)); unlink it there first, or link elsewhere")
            }
            try vault.relay.link(url: relayURL.absoluteString)
            let pushed = try await RelayPush.flush(vault)
            if output.json {
                print(try Terminal.json(StatusJSON(linked: true, relay: relayURL.absoluteString, pushed: pushed?.pushed ?? 0)))
                return
            }
            print("Linked vault \(vault.database.header.vaultIDHex) to \(relayURL.absoluteString); \(pushed?.pushed ?? 0) grant(s) pushed.")
            print("Vendors redeem at \(relayURL.absoluteString)/v1/share with the tokens they hold. Stop `vrm serve` for this vault.")
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push what the relay lacks, and pull its history and use counts into the vault.",
            discussion: """
                Pushes queued grant changes, compares every grant with what the relay holds (and \
                pushes any difference), then pulls the relay's history entries in order, checks \
                that none is missing or changed (sequence and chain), appends them to the local \
                history, raises use counts, and lets the relay drop what was pulled. `vrm audit` \
                and `vrm audit verify` then cover the relay's redemptions too.

                Examples:
                  vrm relay sync
                  vrm relay sync --json
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let vault = try unlock.unlock(location)
            guard let state = try vault.relay.state() else { throw CLIError(description: "this vault is not linked to a relay (`vrm relay link`)") }
            let (grants, others, pulled) = try await RelayPush.sync(vault, state: state)
            if output.json {
                struct Synced: Encodable {
                    var relay: String, pushed: Int, pulled: Int
                    var pushedOther: Int
                    enum CodingKeys: String, CodingKey {
                        case relay, pushed, pulled
                        case pushedOther = "pushed_other"
                    }
                }
                print(try Terminal.json(Synced(relay: state.url, pushed: grants, pulled: pulled, pushedOther: others)))
            } else {
                let other = others == 0 ? "" : " and \(others) other change\(others == 1 ? "" : "s") (request links, decisions, notification settings)"
                print(
                    "Synced with \(state.url): \(pulled) history entr\(pulled == 1 ? "y" : "ies") pulled, \(grants) grant\(grants == 1 ? "" : "s")\(other) pushed."
                )
            }
        }
    }

    /// `vrm relay status --json` (and what link, unlink print with --json).
    struct StatusJSON: Encodable {
        var linked: Bool
        var relay: String?
        var linkedAt: String?
        var queued: Int?
        var lastSync: String?
        var health: String?
        var pulledThrough: Int64?
        var relayGrants: Int64?
        var relayActiveShares: Int64?
        var relayPendingEntries: Int64?
        var pushed: Int?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case linked, relay, queued, health, pushed, error
            case linkedAt = "linked_at", lastSync = "last_sync", pulledThrough = "pulled_through", relayGrants = "relay_grants"
            case relayActiveShares = "relay_active_shares", relayPendingEntries = "relay_pending_entries"
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where the vault is linked, what is queued, the last sync and the relay's health.",
            discussion: "Examples:\n  vrm relay status\n  vrm relay status --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let vault = try unlock.unlock(location)
            guard let state = try vault.relay.state() else {
                if output.json { print(try Terminal.json(StatusJSON(linked: false))) } else { print("Not linked to a relay.") }
                return
            }
            let queued = try vault.relay.queued().count
            let client = try RelayPush.client(for: vault, state: state)
            let health = await client.health()
            var held: RelayWire.VaultStatus?
            var problem: String?
            do {
                held = try await client.status()
            } catch {
                problem = String(describing: error)
            }
            let lastSync = state.lastSyncAt.map { Timestamp.string(Millis.date($0)) } ?? "never"
            if output.json {
                print(
                    try Terminal.json(
                        StatusJSON(
                            linked: true, relay: state.url, linkedAt: Timestamp.string(Millis.date(state.linkedAt)), queued: queued,
                            lastSync: state.lastSyncAt.map { Timestamp.string(Millis.date($0)) }, health: health, pulledThrough: state.pulledSeq,
                            relayGrants: held?.grants, relayActiveShares: held?.activeShares, relayPendingEntries: held?.pendingEntries, error: problem)))
            } else {
                print("Linked to:        \(state.url) (since \(Timestamp.string(Millis.date(state.linkedAt))))")
                print("Relay health:     \(health)")
                print("Queued changes:   \(queued)\(queued > 0 ? " (run `vrm relay sync`)" : "")")
                print("Last sync:        \(lastSync) (history pulled through relay entry \(state.pulledSeq))")
                if let held {
                    print(
                        "At the relay:     \(held.grants) grant(s), \(held.activeShares) with a share, \(held.pendingEntries) history entr\(held.pendingEntries == 1 ? "y" : "ies") not yet pulled"
                    )
                } else if let problem {
                    print("At the relay:     unknown — \(problem)")
                }
            }
        }
    }

    struct Unlink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete everything of this vault on the relay (checked), then forget the link.",
            discussion: """
                Pull the relay's history first (`vrm relay sync`): unlink deletes it on the relay. \
                With --local the link is forgotten here only (for a relay that is gone for good).

                Examples:
                  vrm relay sync && vrm relay unlink
                  vrm relay unlink --local
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Flag(help: "Forget the link here without asking the relay (its copy stays there).") var local = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let vault = try unlock.unlock(location)
            guard let state = try vault.relay.state() else { throw CLIError(description: "this vault is not linked to a relay") }
            if !local {
                let client = try RelayPush.client(for: vault, state: state)
                do {
                    try await client.unlink()
                } catch RelayClientError.unknownVault {
                    // Gone already: nothing of this vault is left there.
                }
            }
            try vault.relay.unlink()
            if output.json {
                print(try Terminal.json(StatusJSON(linked: false, relay: state.url)))
                return
            }
            print(
                local
                    ? "Forgot the link to \(state.url) here; the relay still holds this vault's grants until its operator removes them."
                    : "Unlinked: the relay \(state.url) holds nothing of this vault now (checked). Run `vrm serve` to answer vendors yourself.")
        }
    }
}
