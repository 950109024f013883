import ArgumentParser
import Foundation
import VaultCore
import VaultCrypto

/// An access request as printed by `--json`.
struct AccessRequestJSON: Encodable {
    var id: String
    var status: String
    var receivedAt: String
    var vendor: String?
    var site: String?
    var contact: String?
    var vendorKey: String?
    var scopes: [String]?
    var purpose: String?
    var expiresIn: Int64?
    var maxUses: Int?
    var terms: ProfferedTerms?
    var notifyURL: String?
    var linkVendor: String?
    var problem: String?
    var decidedAt: String?
    var grantID: String?
    var reason: String?
    var copies: [String]?

    init(_ r: AccessRequest) {
        id = r.id
        status = r.status.rawValue
        receivedAt = Timestamp.string(r.receivedAt)
        vendor = r.body?.vendor.name
        site = r.body?.vendor.site
        contact = r.body?.vendor.contact
        vendorKey = r.body?.vendorKey
        scopes = r.body?.scopes
        purpose = r.body?.purpose
        expiresIn = r.body?.expiresIn
        maxUses = r.body?.maxUses
        terms = r.body?.terms
        notifyURL = r.body?.notifyURL
        linkVendor = r.linkVendor
        problem = r.problem
        decidedAt = r.decidedAt.map(Timestamp.string)
        grantID = r.grantID
        reason = r.reason
        copies = r.copies.isEmpty ? nil : r.copies
    }

    enum CodingKeys: String, CodingKey {
        case id, status, vendor, site, contact, scopes, purpose, terms, problem, reason, copies
        case receivedAt = "received_at", vendorKey = "vendor_key", expiresIn = "expires_in", maxUses = "max_uses"
        case notifyURL = "notify_url", linkVendor = "link_vendor", decidedAt = "decided_at", grantID = "grant_id"
    }
}

struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Let vendors ask for access: request links, and your decisions on what they ask.",
        discussion: """
            A vendor asks with a one-time request link you give it (`vrm request link`): its name, \
            its key, the scopes, purpose, duration and use limit it wants, sealed to your vault's key \
            so that the endpoint (vrm serve, or a relay) cannot read it. You see what it asked \
            (`vrm request list`, `show`), and approve — narrowing it if you like — or deny. An \
            approval issues a key-bound grant; the vendor fetches its token, sealed to its key, \
            from the endpoint. Everything is in the share history. Specs/requests.md has the details.

            Examples:
              vrm request link --vendor "Acme Outdoor" --expires 2d \\
                  --endpoint https://vault.example
              vrm request list
              vrm request approve rq_… --scope profile.email --expires 30d
              vrm request deny rq_… --reason "not needed"
            """,
        subcommands: [Link.self, List.self, Show.self, Approve.self, Deny.self])

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a one-time request link for a vendor to ask with (text and QR code).",
            discussion: """
                The link carries the endpoint the vendor sends its request to (--endpoint, else \
                $VRM_ENDPOINT, else the linked relay's URL), a one-time code (one request, then it \
                is spent; without a valid code the endpoint refuses a request), your vault's public \
                key, which the vendor seals its request to, and (sig=) your vault's signing key, which \
                the vendor pins to check the shares it will get. Give it to one vendor only: whoever has it \
                can send one request. --vendor records whom you meant it for (shown when you decide).

                Examples:
                  vrm request link --vendor "Acme Outdoor" --endpoint https://vault.example
                  vrm request link --expires 1h --no-qr
                  vrm request link --json
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: "The vendor you make it for (a note, shown when you decide).") var vendor: String?
        @Option(help: "How long the link can be used: a duration such as 30m, 12h, 7d (at least 1m, at most 90d).") var expires = "7d"
        @Option(help: "The base URL the vendor asks at (else $VRM_ENDPOINT, else the linked relay's).") var endpoint: String?
        @Flag(help: "Do not print the QR code.") var noQR = false
        @OptionGroup var output: OutputOptions

        struct LinkJSON: Encodable {
            var link: String
            var endpoint: String
            var expiresAt: String
            var vendor: String?
            var selector: String

            enum CodingKeys: String, CodingKey {
                case link, endpoint, vendor, selector
                case expiresAt = "expires_at"
            }
        }

        func run() async throws {
            guard let seconds = TimeParsing.duration(expires.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw CLIError.usage("--expires must be a duration such as 30m, 12h or 7d")
            }
            let given = try GrantCard.endpoint(endpoint)
            let vault = try unlock.unlock(location)
            guard let url = try given ?? GrantCard.relayEndpoint(of: vault) else {
                throw CLIError.usage(
                    "name the endpoint vendors reach: --endpoint https://… (the URL vrm serve answers on), or set VRM_ENDPOINT, or link a relay")
            }
            let link = try vault.requests.link(vendor: vendor, expiresIn: seconds, endpoint: url.absoluteString)
            // The link is made: it is shown even when the relay is away (it is queued, and works
            // there once a later command delivers it), and the failure is reported after it.
            var relay: RelayPush.Flushed?
            var pending: (any Error)?
            do {
                relay = try await RelayPush.flush(vault)
            } catch {
                pending = error
            }
            if output.json {
                print(
                    try Terminal.json(
                        LinkJSON(
                            link: link.uri, endpoint: link.endpoint, expiresAt: Timestamp.string(link.expiresAt), vendor: link.vendor,
                            selector: link.selector)))
                if let pending { throw pending }
                return
            }
            print("Request link\(link.vendor.map { " for \($0)" } ?? "") — valid for one request until \(Terminal.time(link.expiresAt)):")
            print("")
            print(link.uri)
            if !noQR, let qr = try? QRCode.encode(Array(link.uri.utf8), correction: .low) {
                print("")
                print(qr.text(border: 2, inverted: true))
            }
            print("")
            if let pending {
                print("The relay does not have this link yet: it works there once a later command (vrm relay sync) delivers it.")
                throw pending
            }
            print("The vendor sends its request to \(link.endpoint)/v1/requests\(relay == nil ? "" : " (the relay has the link)").")
            print("Then: vrm request list")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List access requests (pulled from the relay first when the vault is linked).",
            discussion: "Examples:\n  vrm request list\n  vrm request list --pending --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Flag(help: "Only requests waiting for a decision (pending, and unreadable ones, which can only be denied).") var pending = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let vault = try unlock.unlock(location)
            try await RelayPush.pullRequests(vault)
            var requests = try vault.requests.all()
            if pending { requests = requests.filter { $0.status == .pending || $0.status == .unreadable } }
            if output.json {
                print(try Terminal.json(requests.map(AccessRequestJSON.init)))
            } else if requests.isEmpty {
                print(pending ? "No pending requests." : "No access requests. Make a link for a vendor with `vrm request link`.")
            } else {
                print(
                    Terminal.table(
                        ["ID", "STATUS", "RECEIVED", "VENDOR", "PURPOSE", "GRANT", "ASKED FOR"],
                        requests.map { r in
                            [
                                r.id, r.status.rawValue + (r.copies.isEmpty ? "" : " (copied)"), Terminal.shortTime(r.receivedAt), r.body?.vendor.name ?? "?",
                                r.body?.purpose ?? "-", r.grantID ?? "-", r.body?.scopes.joined(separator: ",") ?? (r.problem ?? ""),
                            ]
                        }))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a vendor asked for.", discussion: "Example:\n  vrm request show rq_abcdefghijklmnopqrstuvwxyz")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The request id.") var id: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let vault = try unlock.unlock(location)
            try await RelayPush.pullRequests(vault)
            let r = try vault.requests.request(id: id)
            if output.json {
                print(try Terminal.json(AccessRequestJSON(r)))
                return
            }
            let grant = r.grantID.flatMap { try? vault.grants.grant(id: $0) }
            print(RequestCommand.describe(r, grant: grant, now: Date()))
        }
    }

    static func describe(_ r: AccessRequest, grant: Grant?, now: Date) -> String {
        var lines = ["Access request \(Terminal.bold(r.id))", "  status:    \(r.status.rawValue)", "  received:  \(Terminal.time(r.receivedAt))"]
        if let hint = r.linkVendor { lines.append("  link for:  \(hint) (whom you made the link for)") }
        if let body = r.body {
            lines.append("  vendor:    \(body.vendor.name)\(body.vendor.site.map { " — \($0)" } ?? "")\(body.vendor.contact.map { " <\($0)>" } ?? "")")
            lines.append("  key:       \(body.vendorKey) (the grant is bound to it)")
            lines.append("  scopes:    \(body.scopes.joined(separator: ", "))")
            let purpose = (try? Purpose.parse(body.purpose)).map { "\($0.rawValue) — \($0.meaning)" } ?? body.purpose
            lines.append("  purpose:   \(purpose)")
            lines.append(
                "  asks for:  \(AccessRequestBody.words(forDuration: body.expiresIn)) from approval, \(body.maxUses.map { "at most \($0) uses" } ?? "unlimited uses")"
            )
            if let terms = body.terms { lines.append("  terms:     \([terms.id, terms.url].compactMap { $0 }.joined(separator: " "))") }
            if let url = body.notifyURL { lines.append("  webhook:   \(url) (told when the share changes; no data)") }
        }
        if let problem = r.problem { lines.append("  problem:   \(problem)") }
        if !r.copies.isEmpty {
            lines.append(
                "  copies:    \(r.copies.joined(separator: ", ")) \(r.copies.count == 1 ? "carries" : "carry") this one's one-time code: all but one were copied where requests are kept; "
                    + "ask the vendor which id it was given")
        }
        if let decided = r.decidedAt { lines.append("  decided:   \(Terminal.time(decided))") }
        if let id = r.grantID {
            lines.append("  grant:     \(id)")
            if let grant {
                // What was granted, which approval may have narrowed.
                lines.append("  granted:   \(grant.scopes.map(\.description).joined(separator: ", "))")
                lines.append(
                    "  expires:   \(TimeParsing.describe(grant.expiresAt, now: now)), \(grant.maxUses.map { "at most \($0) uses" } ?? "unlimited uses")")
            }
        }
        if let reason = r.reason { lines.append("  reason:    \(reason)") }
        if r.status == .pending {
            lines.append("")
            lines.append(
                "Approve (optionally narrower): vrm request approve \(r.id) [--scope S]… [--expires D] [--max-uses N]"
                    + (r.copies.isEmpty ? "" : " --copies-checked"))
            lines.append("Deny:                          vrm request deny \(r.id)")
        }
        return lines.joined(separator: "\n")
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a request, optionally narrower; issues a key-bound grant.",
            discussion: """
                Approval can only narrow what was asked: --scope (repeat) a subset of the scopes asked \
                (a profile field under an asked prefix counts), --expires no later than asked, \
                --max-uses no higher. The vendor is added with its key if it is new; an existing vendor \
                of that name must have the same key. The token is sealed to the vendor's key and handed \
                over by the endpoint (GET /v1/requests/ID); it is not printed. A profile scope that \
                matches no field of your profile yet is granted and named in a note: the vendor gets \
                it once you set the field.

                Examples:
                  vrm request approve rq_abcdefghijklmnopqrstuvwxyz
                  vrm request approve rq_abcdefghijklmnopqrstuvwxyz --scope profile.email \\
                      --expires 30d --max-uses 10
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The request id.") var id: String
        @Option(name: .customLong("scope"), help: "Grant only these of the scopes asked (repeat).") var scopes: [String] = []
        @Option(help: "A shorter duration (30d) or an earlier date than asked.") var expires: String?
        @Option(help: "A lower use limit than asked.") var maxUses: Int?
        @Flag(help: "Approve although copies of the request carry its code: the vendor confirmed this id is the one it was given.")
        var copiesChecked = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let maxUses, maxUses < 1 { throw ValidationError("--max-uses must be a positive whole number") }
        }

        func run() async throws {
            let parsed = try scopes.map(Scope.parse)
            let now = Date()
            let expiresAt = try expires.map { text -> Date in
                guard let date = try TimeParsing.expiry(text, now: now) else {
                    throw CLIError.usage("--expires never would not narrow the request; give a duration or a date")
                }
                guard date > now else { throw CLIError.usage("the expiry \(Timestamp.string(date)) is in the past") }
                return date
            }
            let vault = try unlock.unlock(location)
            try await RelayPush.pullRequests(vault)
            let (request, issued) = try vault.requests.approve(
                id: id, narrowing: RequestNarrowing(scopes: parsed.isEmpty ? nil : parsed, expiresAt: expiresAt, maxUses: maxUses),
                copiesChecked: copiesChecked)
            let relay = try await RelayPush.flush(vault)
            let g = issued.grant
            // A vendor may ask for a field the customer has not filled in: granted, and shared once
            // it is set (grant create asks for --allow-unset instead); said, so it is no surprise.
            let unmatched = try vault.profile.unmatched(g.scopes)
            if output.json {
                var decision = RequestDecisionJSON(request: AccessRequestJSON(request), grant: GrantJSON(g, now: Date()))
                decision.unmatchedScopes = unmatched.map(\.description)
                print(try Terminal.json(decision))
                return
            }
            print("Approved \(request.id): grant \(Terminal.bold(g.id)) to \(g.vendorName ?? "?") (key-bound)")
            print("  scopes:   \(g.scopes.map(\.description).joined(separator: ", "))")
            print("  expires:  \(TimeParsing.describe(g.expiresAt, now: Date()))")
            print("  uses:     \(g.maxUses.map(String.init) ?? "unlimited")")
            if !unmatched.isEmpty {
                print(
                    "Note: \(unmatched.map(\.description).joined(separator: ", ")) match\(unmatched.count == 1 ? "es" : "") no field of your profile yet: "
                        + "the vendor gets nothing for \(unmatched.count == 1 ? "it" : "them") until you set one (`vrm profile set KEY VALUE`).")
            }
            print("The vendor collects its sealed token from \(relay?.url ?? "the endpoint") (GET /v1/requests/\(request.id)).")
        }
    }

    struct RequestDecisionJSON: Encodable {
        var request: AccessRequestJSON
        var grant: GrantJSON?
        /// Profile scopes granted that share no field yet (approve only).
        var unmatchedScopes: [String]?

        enum CodingKeys: String, CodingKey {
            case request, grant
            case unmatchedScopes = "unmatched_scopes"
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deny a request.",
            discussion: "Examples:\n  vrm request deny rq_abcdefghijklmnopqrstuvwxyz\n  vrm request deny rq_abcdefghijklmnopqrstuvwxyz --reason \"not needed\"")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The request id.") var id: String
        @Option(help: "Why (kept in your history; the vendor sees only `denied`).") var reason: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let vault = try unlock.unlock(location)
            try await RelayPush.pullRequests(vault)
            let request = try vault.requests.deny(id: id, reason: reason)
            _ = try await RelayPush.flush(vault)
            if output.json {
                print(try Terminal.json(RequestDecisionJSON(request: AccessRequestJSON(request), grant: nil)))
                return
            }
            print("Denied \(request.id)\(request.body.map { " from \($0.vendor.name)" } ?? "").")
        }
    }
}
