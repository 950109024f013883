import ArgumentParser
import Foundation
import VaultCore
import VaultCrypto

/// A grant as printed by `--json`.
struct GrantJSON: Encodable {
    var id: String
    var vendor: String?
    var scopes: [String]
    var purpose: String
    var terms: String?
    var binding: String
    var boundToKey: Bool
    var state: String
    var createdAt: String
    var expiresAt: String?
    var maxUses: Int?
    var useCount: Int
    var revokedAt: String?
    var shareVersion: Int
    var requestID: String?
    var notifyURL: String?
    /// `vrm grant show`: the webhook's latest deliveries.
    var deliveries: [DeliveryJSON]?

    init(_ g: Grant, now: Date) {
        id = g.id
        vendor = g.vendorName
        scopes = g.scopes.map(\.description)
        purpose = g.purpose.rawValue
        terms = g.terms
        binding = g.binding.rawValue
        boundToKey = g.binding == .key
        state = g.state(at: now).rawValue
        createdAt = Timestamp.string(g.createdAt)
        expiresAt = g.expiresAt.map(Timestamp.string)
        maxUses = g.maxUses
        useCount = g.useCount
        revokedAt = g.revokedAt.map(Timestamp.string)
        shareVersion = g.shareVersion
        requestID = g.requestID
        notifyURL = g.notifyURL
    }

    enum CodingKeys: String, CodingKey {
        case id, vendor, scopes, purpose, terms, binding, state
        case boundToKey = "bound_to_key", createdAt = "created_at", expiresAt = "expires_at", maxUses = "max_uses"
        case useCount = "use_count", revokedAt = "revoked_at", shareVersion = "share_version", requestID = "request_id"
        case notifyURL = "notify_url", deliveries
    }
}

/// One webhook event and how its delivery stands (`vrm grant show --json`).
struct DeliveryJSON: Encodable {
    var id: String
    var createdAt: String
    var attempts: Int
    var lastStatus: Int?
    var lastError: String?
    var deliveredAt: String?
    var stoppedAt: String?
    var nextAttempt: String?

    init(_ e: WebhookStatus.Event) {
        id = e.id
        createdAt = Timestamp.string(e.createdAt)
        attempts = e.attempts
        lastStatus = e.lastStatus
        lastError = e.lastError
        deliveredAt = e.deliveredAt.map(Timestamp.string)
        stoppedAt = e.stoppedAt.map(Timestamp.string)
        nextAttempt = e.nextAt.map(Timestamp.string)
    }

    enum CodingKeys: String, CodingKey {
        case id, attempts
        case createdAt = "created_at", lastStatus = "last_status", lastError = "last_error", deliveredAt = "delivered_at"
        case stoppedAt = "stopped_at", nextAttempt = "next_attempt"
    }
}

struct GrantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "Issue, inspect and revoke share grants.",
        discussion: """
            Examples:
              vrm grant create --vendor "Acme Outdoor" --scope profile.email --purpose support
              vrm grant list --active
              vrm grant show gr_abcdefghijklmnop
              vrm grant revoke gr_abcdefghijklmnop
            """,
        subcommands: [Create.self, List.self, Show.self, Card.self, Revoke.self, Receipt.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a grant and print its token once.",
            discussion: """
                Scopes:
                \(Scope.catalogue.map { "  \($0.form.padding(toLength: 22, withPad: " ", startingAt: 0)) \($0.meaning)" }.joined(separator: "\n"))

                Purposes:
                \(Purpose.allCases.map { "  \($0.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0)) \($0.meaning)" }.joined(separator: "\n"))

                The grant expires after 30 days unless --expires says otherwise (a duration such as \
                7d, 12h, 2w, 1y; a date; or `never`, which must be explicit). A vendor with a public key \
                gets a key-bound grant; otherwise a bearer grant. It prints the grant card: everything \
                the vendor needs (endpoint with --endpoint or $VRM_ENDPOINT, token, grant and vault ids, \
                the signing key to pin and the JWK Set URL). The token is on it once and cannot be \
                shown again (`vrm grant card ID` prints the rest). A profile scope that matches no \
                field of your profile (a typo such as profile.adress) is refused with the nearest \
                names, unless --allow-unset says you will fill the field in later. With --notify-url, \
                the endpoint (vrm serve or the relay) POSTs a signed event to the vendor each time \
                the share changes — the grant id and the new version, never data (Standard Webhooks, \
                v1a); `vrm grant show` lists the deliveries. The endpoint sends without your \
                passphrase, so the URL is kept readable in the vault file (and at a linked relay): \
                its host tells whoever reads the file which vendor this grant is for.

                Examples:
                  vrm grant create --vendor "Acme Outdoor" --scope profile.address.shipping \\
                      --scope profile.name --purpose delivery
                  vrm grant create --vendor "Bolt Bikes" --scope profile.email \\
                      --purpose warranty --expires 1y --max-uses 12
                  TOKEN=$(vrm grant create --vendor Acme --scope profile.email \\
                      --purpose support --token-only)
                  vrm grant create --vendor Acme --scope purchases:own --purpose warranty \\
                      --endpoint https://vault.example --json
                  vrm grant create --vendor Acme --scope profile.address.shipping \\
                      --purpose delivery --notify-url https://acme.example/vrm-hook
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: "The vendor to share with.") var vendor: String
        @Option(name: .customLong("scope"), help: "What to share (repeat for several).") var scopes: [String] = []
        @Option(help: "Why the vendor gets the data.") var purpose: String
        @Option(help: "Expiry: a duration (30d), a date, an ISO 8601 time, or `never`.") var expires: String = "30d"
        @Option(help: "How many times the vendor may fetch the share.") var maxUses: Int?
        @Option(help: "An id or URL of the terms this grant is given under.") var terms: String?
        @Option(help: "The jurisdiction recorded in the consent receipt, e.g. EU or US-CA.") var jurisdiction: String?
        @Option(help: "The vendor's webhook: told (signed, no data) when the share changes (https; http only to this machine).")
        var notifyURL: String?
        @Flag(help: "Allow profile scopes that match no field yet (a field you will fill in later).") var allowUnset = false
        @Flag(help: "Print only the token.") var tokenOnly = false
        @Option(help: "The base URL vrm serve answers on, for the card (else $VRM_ENDPOINT, else the linked relay's).") var endpoint: String?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if scopes.isEmpty { throw ValidationError("give at least one --scope; valid scopes: \(Scope.validForms)") }
            if let maxUses, maxUses < 1 { throw ValidationError("--max-uses must be a positive whole number") }
        }

        func run() throws {
            // Everything the user typed is checked before the passphrase is asked for.
            let parsedScopes = try scopes.map(Scope.parse)
            let parsedPurpose = try Purpose.parse(purpose)
            let now = Date()
            let expiresAt = try TimeParsing.expiry(expires, now: now)
            if let expiresAt, expiresAt <= now { throw CLIError.usage("the expiry \(Timestamp.string(expiresAt)) is in the past") }
            let url = try GrantCard.endpoint(endpoint)
            let vault = try unlock.unlock(location)
            let issued = try vault.grants.create(
                GrantRequest(
                    vendorName: vendor, scopes: parsedScopes, purpose: parsedPurpose, expiresAt: expiresAt, maxUses: maxUses,
                    terms: terms, jurisdiction: jurisdiction, allowUnsetFields: allowUnset, notifyURL: notifyURL))
            if let notifyURL, NotifyURL.isLoopback(notifyURL), (try? vault.relay.state()) != nil {
                Terminal.note(
                    "vrm grant create: note: the relay sends this grant's events to its own machine only when its operator started it with --allow-loopback-receivers."
                )
            }
            let token = issued.token.encoded()
            let grant = issued.grant
            if tokenOnly {
                print(token)
            } else {
                let card = GrantCard(grant: grant, vault: vault, token: token, endpoint: try url ?? GrantCard.relayEndpoint(of: vault))
                if output.json {
                    print(try Terminal.json(card))
                } else {
                    print(
                        "Issued grant \(Terminal.bold(grant.id)) to \(grant.vendorName ?? "?") (\(grant.binding == .key ? "key-bound: only the vendor's key opens the share" : "bearer"))"
                    )
                    print("")
                    print(card.text)
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List grants.", discussion: "Examples:\n  vrm grant list --active\n  vrm grant list --vendor \"Acme Outdoor\" --json")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Option(help: "Only this vendor's grants.") var vendor: String?
        @Flag(help: "Only grants that are active now.") var active = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let now = Date()
            var grants = try unlock.unlock(location).grants.list(vendorName: vendor)
            if active { grants = grants.filter { $0.state(at: now) == .active } }
            if output.json {
                print(try Terminal.json(grants.map { GrantJSON($0, now: now) }))
            } else if grants.isEmpty {
                print("No grants.")
            } else {
                print(
                    Terminal.table(
                        ["ID", "VENDOR", "STATE", "PURPOSE", "USES", "EXPIRES", "SCOPES"],
                        grants.map { g in
                            [
                                g.id, g.vendorName ?? "(removed)", g.state(at: now).rawValue, g.purpose.rawValue,
                                "\(g.useCount)/\(g.maxUses.map(String.init) ?? "∞")", g.expiresAt.map(Terminal.shortTime) ?? "never",
                                g.scopes.map(\.description).joined(separator: ","),
                            ]
                        }))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one grant.", discussion: "Example:\n  vrm grant show gr_abcdefghijklmnop")
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The grant id.") var id: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let now = Date()
            let vault = try unlock.unlock(location)
            let g = try vault.grants.grant(id: id)
            if output.json {
                var json = GrantJSON(g, now: now)
                json.deliveries = try await Self.deliveries(vault, grantID: g.id)?.events.map(DeliveryJSON.init)
                print(try Terminal.json(json))
                return
            }
            print("Grant \(Terminal.bold(g.id))")
            print("  vendor:   \(g.vendorName ?? "(removed)")")
            print("  state:    \(g.state(at: now).rawValue)")
            print("  binding:  \(g.binding == .key ? "key-bound" : "bearer")")
            print("  scopes:   \(g.scopes.map(\.description).joined(separator: ", "))")
            print("  purpose:  \(g.purpose.rawValue) — \(g.purpose.meaning)")
            if let terms = g.terms { print("  terms:    \(terms)") }
            print("  issued:   \(Terminal.time(g.createdAt))")
            print("  expires:  \(TimeParsing.describe(g.expiresAt, now: now))")
            print("  uses:     \(g.useCount) of \(g.maxUses.map(String.init) ?? "unlimited")")
            print("  version:  \(g.shareVersion)")
            if let revoked = g.revokedAt { print("  revoked:  \(Terminal.time(revoked))") }
            if let request = g.requestID { print("  request:  \(request) (the vendor asked; vrm request show \(request))") }
            if let terms = g.termsProffered { print("  proffered terms: \([terms.id, terms.url].compactMap { $0 }.joined(separator: " "))") }
            if let webhook = try await Self.deliveries(vault, grantID: g.id) {
                print("  webhook:  \(webhook.url)")
                if webhook.events.isEmpty { print("            no change announced yet") }
                for event in webhook.events.prefix(5) {
                    let state: String
                    if let delivered = event.deliveredAt {
                        state = "delivered \(Terminal.shortTime(delivered)) (\(event.lastStatus.map(String.init) ?? "-"))"
                    } else if let stopped = event.stoppedAt {
                        state = "stopped \(Terminal.shortTime(stopped)): \(event.lastError ?? "")"
                    } else {
                        state =
                            "pending, \(event.attempts) attempt(s)\(event.lastError.map { ", last: \($0)" } ?? ""), next \(event.nextAt.map(Terminal.shortTime) ?? "-")"
                    }
                    // The endpoint writes these rows: their text is shown, never obeyed.
                    print("            \(ImportProblem.shown(event.id, 40)) \(Terminal.shortTime(event.createdAt)): \(ImportProblem.shown(state, 300))")
                }
            }
        }

        /// The grant's webhook and its deliveries: the relay's record while the vault is linked
        /// (the relay sends them), else the vault's.
        static func deliveries(_ vault: Vault, grantID: String) async throws -> WebhookStatus? {
            guard let local = try vault.grants.webhookStatus(grantID: grantID) else { return nil }
            guard let state = try vault.relay.state() else { return local }
            do {
                let events = try await RelayPush.client(for: vault, state: state).webhookEvents(grantID: grantID)
                return WebhookStatus(
                    url: local.url,
                    events: events.map {
                        WebhookStatus.Event(
                            id: $0.id, createdAt: Millis.date($0.createdAt), attempts: Int(clamping: $0.attempts),
                            lastStatus: $0.lastStatus.map { Int(clamping: $0) },
                            lastError: $0.lastError, deliveredAt: $0.deliveredAt.map(Millis.date), stoppedAt: $0.stoppedAt.map(Millis.date),
                            nextAt: $0.deliveredAt == nil && $0.stoppedAt == nil ? Millis.date($0.nextAt) : nil)
                    })
            } catch {
                Terminal.note("vrm: note: cannot reach the relay at \(state.url) for the webhook's deliveries (\(error)); showing none.")
                return WebhookStatus(url: local.url, events: [])
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a grant now; its stored share is destroyed.",
            discussion: """
                The very next redemption is refused with 403 (revoked). While the vault is linked to \
                a relay, the revoke is reported only once the relay has it; when the relay cannot \
                be reached the grant is still revoked here, the change is queued, and the command \
                exits 6 (`vrm relay sync` retries).

                Example:
                  vrm grant revoke gr_abcdefghijklmnop
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The grant id.") var id: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let vault = try unlock.unlock(location)
            let g = try vault.grants.revoke(id: id)
            let relay = try await RelayPush.flush(vault)
            if output.json {
                print(try Terminal.json(GrantJSON(g, now: Date())))
                return
            }
            print(
                "Revoked grant \(g.id) (\(g.vendorName ?? "removed vendor")). Its share was destroyed\(relay.map { " here and at the relay \($0.url)" } ?? "")."
            )
        }
    }

    struct Receipt: ParsableCommand {
        enum Format: String, ExpressibleByArgument, CaseIterable {
            case kantara, iso27560
        }

        static let configuration = CommandConfiguration(
            abstract: "Print the grant's consent receipt or consent record as JSON.",
            discussion: """
                --format kantara (the default): the Kantara Consent Receipt 1.1 shape.
                --format iso27560: an ISO/IEC TS 27560:2023 consent record as the W3C DPV guide \
                serializes it (JSON-LD), with the purpose, legal basis, consent state and data \
                categories as DPV IRIs (the mapping is in Specs/grants.md).

                Examples:
                  vrm grant receipt gr_abcdefghijklmnop > receipt.json
                  vrm grant receipt gr_abcdefghijklmnop --format iso27560 > record.jsonld
                """)
        @OptionGroup var location: VaultLocation
        @OptionGroup var unlock: UnlockOptions
        @Argument(help: "The grant id.") var id: String
        @Option(help: "kantara or iso27560.") var format: Format = .kantara

        func run() throws {
            let grants = try unlock.unlock(location).grants
            switch format {
            case .kantara: print(try Terminal.json(try grants.consentReceipt(grantID: id)))
            case .iso27560: print(try Terminal.json(try grants.consentRecord27560(grantID: id)))
            }
        }
    }
}
