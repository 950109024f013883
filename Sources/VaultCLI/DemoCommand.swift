import ArgumentParser
import Foundation
import Hummingbird
import Logging
import VaultCore
import VaultCrypto
import VaultRelay
import VaultServer

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole story in a temporary vault: grants, redemption, change, revocation, audit.",
        discussion: """
            Creates a vault in a temporary directory, fills a profile, adds two vendors (one with \
            its own key), issues a bearer and a key-bound grant, starts the server on a free \
            loopback port, redeems both shares over HTTP as the vendors would, changes the shipping \
            address and shows the vendor sees it, revokes a grant and shows the vendor is refused, \
            then prints and verifies the share history. Every check is real: the demo fails with a \
            non-zero exit if any step does not behave as described. Nothing outside the temporary \
            directory is touched.

            With --relay: the always-on relay instead (Specs/relay.md), on a throwaway PostgreSQL \
            cluster in the temporary directory (Debian's postgresql must be installed).

            Examples:
              vrm demo
              vrm demo --relay
            """)

    @Flag(help: "Keep the temporary directory (and print its path) instead of deleting it.")
    var keep = false
    @Flag(
        help: """
            The relay story instead: a throwaway PostgreSQL and a relay, the vault linked, the customer's own server \
            stopped, vendors redeeming from the relay, a revoke, and the history synced back (needs postgresql).
            """)
    var relay = false

    func run() async throws {
        let directory = try Demo.makeTemporaryDirectory()
        defer {
            if keep {
                Terminal.note("Kept the demo vault in \(directory)")
            } else {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        var demo = Demo(directory: directory)
        if relay {
            try await demo.runRelay()
        } else {
            try await demo.run()
        }
    }
}

/// The scripted walkthrough behind `vrm demo`.
struct Demo {
    let directory: String
    var step = 0

    static func makeTemporaryDirectory() throws -> String {
        var template = Array((URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vrm-demo-XXXXXX").path).utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        guard let made else { throw CLIError(description: "cannot create a temporary directory") }
        return made
    }

    mutating func say(_ text: String) {
        step += 1
        print("\n" + Terminal.bold("\(step). \(text)"))
    }

    func detail(_ text: String) {
        print("   " + text)
    }

    func check(throws body: () throws -> Void, _ failure: String) throws {
        do {
            try body()
        } catch {
            return
        }
        throw CLIError(description: "demo check failed: \(failure)")
    }

    func check(_ condition: Bool, _ failure: String) throws {
        guard condition else { throw CLIError(description: "demo check failed: \(failure)") }
    }

    mutating func run() async throws {
        let path = directory + "/vault.db"
        say("Create a vault (Argon2id-protected master key; the passphrase stays in memory only)")
        let passphrase = try SecretKey.random(count: 24)
        let vault = try Vault.create(path: path, passphrase: passphrase, kdf: .interactive)
        detail("vault \(vault.database.header.vaultIDHex) at \(path)")

        say("Fill the customer's profile")
        let profile = [
            ("name", "Jo Example"), ("email", "jo@example.org"), ("address.shipping", "12 Quokka Lane, Springfield"),
            ("address.billing", "PO Box 9, Springfield"), ("size.shoe", "EU 42"), ("phone", "+1 555 0100"),
        ]
        for (key, value) in profile {
            try vault.profile.set(key, value: value)
            detail("\(key) = \(value)")
        }

        say("Add two vendors; Bolt Bikes brings its own X25519 key, so its shares are sealed to it")
        try vault.vendors.add(name: "Acme Outdoor", site: "https://acme.example", contact: "orders@acme.example")
        let boltKey = try BoxKeyPair.generate()
        try vault.vendors.add(name: "Bolt Bikes", site: "https://bolt.example", publicKey: VendorKeyText.encodePublic(boltKey.publicKey))
        detail("Acme Outdoor: no key → bearer grants")
        detail("Bolt Bikes:   \(VendorKeyText.encodePublic(boltKey.publicKey)) → key-bound grants")

        say("Issue a bearer grant to Acme (delivery) and a key-bound grant to Bolt (warranty)")
        let acme = try vault.grants.create(
            GrantRequest(
                vendorName: "Acme Outdoor", scopes: [.profileField("name"), .profilePrefix("address")], purpose: .delivery,
                expiresAt: Date().addingTimeInterval(7 * 86_400)))
        let bolt = try vault.grants.create(
            GrantRequest(
                vendorName: "Bolt Bikes", scopes: [.profileField("email"), .profilePrefix("size")], purpose: .warranty,
                expiresAt: Date().addingTimeInterval(365 * 86_400), maxUses: 5))
        detail("\(acme.grant.id) → Acme: \(acme.grant.scopes.map(\.description).joined(separator: ", ")) (expires in 7 days)")
        detail("\(bolt.grant.id) → Bolt: \(bolt.grant.scopes.map(\.description).joined(separator: ", ")) (1 year, at most 5 uses)")
        detail("tokens are shown once and stored only as a hash: \(acme.token.encoded().prefix(12))…")

        say("Start the vendor endpoint on a free loopback port — with no passphrase and no keys")
        let server = try await DemoServer.start(path: path)
        defer { server.stop() }
        detail("listening on \(server.baseURL.absoluteString)")

        say("Acme redeems its token over HTTP and checks the vault's signature")
        let acmeClient = VendorClient(baseURL: server.baseURL, keyPair: nil, pinnedSigner: acme.signerKey)
        guard case .share(let first, _, let firstTag, let firstSealed) = try await acmeClient.fetch(token: acme.token.encoded()) else {
            throw CLIError(description: "demo check failed: Acme could not redeem its grant")
        }
        try check(!firstSealed, "Acme's bearer share came sealed")
        showProfile(first)
        try check(first.data.profile?["email"] == nil && first.data.profile?["phone"] == nil, "Acme received a field it was not granted")

        say("Bolt redeems its key-bound share and opens it with its own secret key")
        let boltClient = VendorClient(baseURL: server.baseURL, keyPair: boltKey, pinnedSigner: bolt.signerKey)
        guard case .share(let boltShare, _, _, let boltSealed) = try await boltClient.fetch(token: bolt.token.encoded()) else {
            throw CLIError(description: "demo check failed: Bolt could not redeem its grant")
        }
        try check(boltSealed, "Bolt's share was not sealed to its key")
        showProfile(boltShare)
        let stranger = VendorClient(baseURL: server.baseURL, keyPair: try BoxKeyPair.generate(), pinnedSigner: nil)
        do {
            _ = try await stranger.fetch(token: bolt.token.encoded())
            throw CLIError(description: "demo check failed: a stranger's key opened Bolt's share")
        } catch let error as ShareFormatError where error == .notForThisKey {
            detail("the same token with anyone else's key: \(error.description)")
        }

        say("A new vendor asks: Cobalt Cycles gets a one-time request link, asks for more than it needs, the customer approves less")
        let link = try vault.requests.link(vendor: "Cobalt Cycles", expiresIn: 3600, endpoint: server.baseURL.absoluteString)
        detail("request link (as text and QR code with `vrm request link`): \(link.uri.prefix(72))…")
        let cobaltKey = try BoxKeyPair.generate()
        let asked = AccessRequestBody(
            vendor: .init(name: "Cobalt Cycles", site: "https://cobalt.example"), vendorKey: VendorKeyText.encodePublic(cobaltKey.publicKey),
            scopes: ["profile.email", "profile.phone", "profile.address.*"], purpose: "support", expiresIn: 30 * 86_400, maxUses: 10)
        let requester = VendorClient(baseURL: server.baseURL, keyPair: cobaltKey, pinnedSigner: vault.keys.signing.publicKey)
        let requestID = try await requester.ask(link: link.uri, request: asked)
        detail("Cobalt asks for \(asked.scopes.joined(separator: ", ")), sealed to the vault's key: request \(requestID)")
        let (_, issued) = try vault.requests.approve(
            id: requestID, narrowing: RequestNarrowing(scopes: [.profileField("email")], maxUses: 3))
        detail("the customer approves profile.email only, at most 3 uses: key-bound grant \(issued.grant.id)")
        try check(throws: { _ = try vault.requests.approve(id: requestID, narrowing: RequestNarrowing()) }, "a request was approved twice")
        let cobaltToken = try await requester.collectToken(requestID: requestID)
        guard case .share(let cobaltShare, _, _, let cobaltSealed) = try await requester.fetch(token: cobaltToken) else {
            throw CLIError(description: "demo check failed: Cobalt could not redeem the grant it was given")
        }
        try check(cobaltSealed && cobaltShare.data.profile.map { Array($0.keys) } == ["email"], "Cobalt's share is not the narrowed one")
        detail("Cobalt opens its token (sealed to its key) and redeems it:")
        showProfile(cobaltShare)

        say("The customer moves house: one change, and every grant covering it is re-materialised")
        try vault.profile.set("address.shipping", value: "7 Wombat Street, Shelbyville")
        detail("address.shipping = 7 Wombat Street, Shelbyville")
        guard case .share(let second, _, let secondTag, _) = try await acmeClient.fetch(token: acme.token.encoded(), ifNoneMatch: firstTag) else {
            throw CLIError(description: "demo check failed: Acme did not get the new version")
        }
        try check(second.data.profile?["address.shipping"] == "7 Wombat Street, Shelbyville", "Acme still sees the old address")
        try check(second.version > first.version, "the share version did not change")
        detail("Acme asked with If-None-Match \(firstTag ?? "") and received version \(second.version) (ETag \(secondTag ?? "")):")
        detail("  address.shipping: \(second.data.profile?["address.shipping"] ?? "")")
        guard case .notModified = try await acmeClient.fetch(token: acme.token.encoded(), ifNoneMatch: secondTag) else {
            throw CLIError(description: "demo check failed: an unchanged share was sent again")
        }
        detail("asking again with the new ETag: 304 Not Modified (not counted as a use)")

        say("The customer revokes Bolt's grant; the very next request is refused")
        try vault.grants.revoke(id: bolt.grant.id)
        guard case .refused(let status, let problem, let title, _) = try await boltClient.fetch(token: bolt.token.encoded()) else {
            throw CLIError(description: "demo check failed: a revoked grant was still served")
        }
        try check(status == 403 && problem.hasSuffix(":revoked"), "the refusal was \(status) \(problem), not 403 revoked")
        detail("Bolt gets \(status): \(title)")
        guard case .refused(let badStatus, _, _, _) = try await acmeClient.fetch(token: "vrm_not-a-real-token") else {
            throw CLIError(description: "demo check failed: a bogus token was accepted")
        }
        try check(badStatus == 401, "a bogus token got \(badStatus)")
        detail("a made-up token gets \(badStatus), the same answer as any unknown or wrong token")

        say("The share history: every issue, redemption, change, denial and revocation")
        server.stop()
        let entries = try vault.audit.entries()
        print(
            Terminal.table(
                ["SEQ", "EVENT", "VENDOR", "DETAIL"],
                entries.map {
                    [String($0.seq), $0.event, $0.body.vendor ?? "-", AuditCommand.Show.detail($0)]
                }
            ).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        let redeemed = entries.filter { $0.event == AuditEvent.shareRedeemed.rawValue }.count
        // Acme twice, Bolt once, Cobalt once, and once for the stranger: the server released the
        // sealed share, which only Bolt's key opens — the history records every release, opened or not.
        try check(redeemed == 5, "expected 5 redemptions in the history, found \(redeemed)")

        say("Verify the share history with the vault key")
        switch try vault.audit.verify().result {
        case .intact(let count, _):
            detail("intact: \(count) entries chain correctly; every entry the CLI wrote carries the vault key's MAC")
        case .broken(let seq, let reason):
            throw CLIError(description: "demo check failed: the history is broken at entry \(seq): \(reason)")
        }
        detail(
            "on disk, nothing personal is in the clear: \(try plaintextLeaks(path: path, values: profile.map(\.1) + ["Acme Outdoor", "Bolt Bikes", "Cobalt Cycles"])) of \(profile.count + 3) values found in vault.db"
        )

        print("\nDone. Try it yourself: `vrm init`, `vrm profile set`, `vrm vendor add`, `vrm grant create`, `vrm serve` (see README.md).")
    }

    func showProfile(_ document: ShareDocument) {
        detail("version \(document.version), purpose \(document.purpose), scopes \(document.scopes.joined(separator: ", ")):")
        for (key, value) in (document.data.profile ?? [:]).sorted(by: { $0.key < $1.key }) {
            detail("  \(key): \(value)")
        }
    }

    /// How many of `values` appear byte-for-byte in the vault file and its WAL.
    func plaintextLeaks(path: String, values: [String]) throws -> Int {
        let files = [path, path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }
        let leaks = values.filter { value in files.contains { $0.range(of: Data(value.utf8)) != nil } }.count
        try check(leaks == 0, "\(leaks) personal values were found in clear in the vault file")
        return leaks
    }
}

/// The in-process server the demo starts, exactly as `vrm serve` would run.
final class DemoServer: Sendable {
    let baseURL: URL
    private let task: Task<Void, any Error>

    private init(baseURL: URL, task: Task<Void, any Error>) {
        self.baseURL = baseURL
        self.task = task
    }

    static func start(path: String) async throws -> DemoServer {
        let database = try VaultDatabase.open(path: path)
        return try await start { logger, running in
            try buildApplication(
                database: database, options: ServerOptions(host: "127.0.0.1", port: 0), accessLog: AccessLog(sink: { _ in }),
                logger: logger, onServerRunning: running)
        }
    }

    /// A relay over `database`, as `vrm relay serve` runs it (`vrm demo --relay`).
    static func start(relay database: RelayDatabase) async throws -> DemoServer {
        try await start { logger, running in
            try buildRelayApplication(
                database: database, options: ServerOptions(host: "127.0.0.1", port: 0), accessLog: AccessLog(sink: { _ in }),
                logger: logger, onServerRunning: running)
        }
    }

    /// Runs the application `make` builds on a free loopback port until `stop`.
    private static func start<App: ApplicationProtocol>(
        _ make: (Logger, @escaping @Sendable (Int) async -> Void) throws -> App
    ) async throws -> DemoServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "vrm.demo")
        logger.logLevel = .critical
        let app = try make(logger) { port in continuation.yield(port) }
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), let url = URL(string: "http://127.0.0.1:\(port)") else {
            task.cancel()
            throw CLIError(description: "the demo server did not start")
        }
        return DemoServer(baseURL: url, task: task)
    }

    func stop() {
        task.cancel()
    }
}
