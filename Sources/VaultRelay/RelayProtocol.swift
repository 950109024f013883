public import Foundation

/// The relay's control API bodies (`Specs/relay.md`): JSON, snake_case, bytes as base64url.
/// The CLI sends them (`RelayClient`), the relay answers them (`RelayRoutes`).
public enum RelayWire {
    /// `POST /v1/relay/vaults`: enrolment with an operator's invite code.
    public struct Enrolment: Codable, Sendable {
        public var invite: String
        public var vaultID: String
        /// Ed25519: the vault's identity on the relay; it signs every later request.
        public var signingKey: String
        /// X25519: what the relay seals history entries to.
        public var boxKey: String

        public init(invite: String, vaultID: String, signingKey: String, boxKey: String) {
            self.invite = invite
            self.vaultID = vaultID
            self.signingKey = signingKey
            self.boxKey = boxKey
        }

        enum CodingKeys: String, CodingKey {
            case invite
            case vaultID = "vault_id", signingKey = "signing_key", boxKey = "box_key"
        }
    }

    /// One grant's server-side state, as `vrm serve` holds it: no vendor, no scope, no data.
    public struct Grant: Codable, Sendable, Equatable {
        public var id: String
        public var selector: String
        public var secretHash: String
        public var binding: String
        public var expiresAt: Int64?
        public var maxUses: Int64?
        public var useCount: Int64
        public var revokedAt: Int64?
        public var version: Int64
        /// The sealed share; absent for a grant that is not active.
        public var share: String?
        public var bindsPolicy: Bool
        /// The vendor's webhook (`Specs/requests.md` §5), if the grant has one.
        public var notifyURL: String?

        public init(
            id: String, selector: String, secretHash: String, binding: String, expiresAt: Int64?, maxUses: Int64?, useCount: Int64,
            revokedAt: Int64?, version: Int64, share: String?, bindsPolicy: Bool, notifyURL: String? = nil
        ) {
            self.notifyURL = notifyURL
            self.id = id
            self.selector = selector
            self.secretHash = secretHash
            self.binding = binding
            self.expiresAt = expiresAt
            self.maxUses = maxUses
            self.useCount = useCount
            self.revokedAt = revokedAt
            self.version = version
            self.share = share
            self.bindsPolicy = bindsPolicy
        }

        enum CodingKeys: String, CodingKey {
            case id, selector, binding, share, version
            case secretHash = "secret_hash", expiresAt = "expires_at", maxUses = "max_uses", useCount = "use_count"
            case revokedAt = "revoked_at", bindsPolicy = "binds_policy", notifyURL = "notify_url"
        }
    }

    /// `PUT /v1/relay/vaults/{vault}/grants`: grants to store or update, grants to delete.
    public struct Push: Codable, Sendable {
        public var grants: [Grant]
        public var deleted: [String]

        public init(grants: [Grant], deleted: [String]) {
            self.grants = grants
            self.deleted = deleted
        }
    }

    /// What the relay holds of one grant (the answer to a push, and `GET …/grants`).
    public struct GrantStatus: Codable, Sendable, Equatable {
        public var id: String
        public var version: Int64
        public var useCount: Int64
        public var revoked: Bool
        public var hasShare: Bool
        /// In the answer to a push: why the relay refused this grant (the rest was taken).
        public var rejected: String?

        public init(id: String, version: Int64, useCount: Int64, revoked: Bool, hasShare: Bool, rejected: String? = nil) {
            self.id = id
            self.version = version
            self.useCount = useCount
            self.revoked = revoked
            self.hasShare = hasShare
            self.rejected = rejected
        }

        enum CodingKeys: String, CodingKey {
            case id, version, revoked, rejected
            case useCount = "use_count", hasShare = "has_share"
        }
    }

    public struct GrantStatuses: Codable, Sendable {
        public var grants: [GrantStatus]

        public init(grants: [GrantStatus]) { self.grants = grants }
    }

    /// One history entry the relay appended, as its chain hashes it (`Specs/audit-chain.md`).
    public struct Entry: Codable, Sendable {
        public var seq: Int64
        public var at: Int64
        public var event: String
        public var writer: String
        public var body: String
        public var hash: String

        public init(seq: Int64, at: Int64, event: String, writer: String, body: String, hash: String) {
            self.seq = seq
            self.at = at
            self.event = event
            self.writer = writer
            self.body = body
            self.hash = hash
        }
    }

    public struct Writer: Codable, Sendable {
        public var id: String
        public var publicKey: String

        public init(id: String, publicKey: String) {
            self.id = id
            self.publicKey = publicKey
        }

        enum CodingKeys: String, CodingKey {
            case id
            case publicKey = "public_key"
        }
    }

    /// `GET /v1/relay/vaults/{vault}/history?after=SEQ`: the entries after `after` still held, in
    /// order, the writers that sealed them, and every grant's use count.
    public struct History: Codable, Sendable {
        public var entries: [Entry]
        public var writers: [Writer]
        public var grants: [GrantStatus]
        /// The newest entry's sequence number on the relay (0: none yet).
        public var tip: Int64
        /// Whether more entries follow `entries` (ask again after the last one).
        public var more: Bool

        public init(entries: [Entry], writers: [Writer], grants: [GrantStatus], tip: Int64, more: Bool) {
            self.entries = entries
            self.writers = writers
            self.grants = grants
            self.tip = tip
            self.more = more
        }
    }

    /// `PUT /v1/relay/vaults/{vault}/keys`: the vault's new X25519 key, after a key rotation.
    public struct Keys: Codable, Sendable {
        public var boxKey: String

        public init(boxKey: String) { self.boxKey = boxKey }

        enum CodingKeys: String, CodingKey {
            case boxKey = "box_key"
        }
    }

    /// `POST /v1/relay/vaults/{vault}/history/ack`: the relay may drop entries through `through`.
    public struct Ack: Codable, Sendable {
        public var through: Int64

        public init(through: Int64) { self.through = through }
    }

    /// `GET /v1/relay/vaults/{vault}`: what the relay holds of the vault.
    public struct VaultStatus: Codable, Sendable {
        public var vaultID: String
        public var enrolledAt: Int64
        public var grants: Int64
        public var activeShares: Int64
        public var pendingEntries: Int64
        public var tip: Int64

        public init(vaultID: String, enrolledAt: Int64, grants: Int64, activeShares: Int64, pendingEntries: Int64, tip: Int64) {
            self.vaultID = vaultID
            self.enrolledAt = enrolledAt
            self.grants = grants
            self.activeShares = activeShares
            self.pendingEntries = pendingEntries
            self.tip = tip
        }

        enum CodingKeys: String, CodingKey {
            case grants, tip
            case vaultID = "vault_id", enrolledAt = "enrolled_at", activeShares = "active_shares", pendingEntries = "pending_entries"
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func encode(_ value: some Encodable) throws -> Data {
        try encoder.encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}

// MARK: Access requests (`Specs/requests.md`, `Specs/relay.md`)

extension RelayWire {
    /// `PUT /v1/relay/vaults/{vault}/links`: request links the relay takes requests for — the
    /// code's selector and hash and the expiry only.
    public struct RequestLinks: Codable, Sendable {
        public struct Link: Codable, Sendable, Equatable {
            public var selector: String
            public var codeHash: String
            public var expiresAt: Int64

            public init(selector: String, codeHash: String, expiresAt: Int64) {
                self.selector = selector
                self.codeHash = codeHash
                self.expiresAt = expiresAt
            }

            enum CodingKeys: String, CodingKey {
                case selector
                case codeHash = "code_hash", expiresAt = "expires_at"
            }
        }

        public var links: [Link]

        public init(links: [Link]) { self.links = links }
    }

    /// `GET /v1/relay/vaults/{vault}/requests`: the requests the customer has not decided.
    public struct PendingRequests: Codable, Sendable {
        public struct Request: Codable, Sendable, Equatable {
            public var id: String
            public var link: String
            public var sealed: String
            public var proof: String
            public var receivedAt: Int64

            public init(id: String, link: String, sealed: String, proof: String, receivedAt: Int64) {
                self.id = id
                self.link = link
                self.sealed = sealed
                self.proof = proof
                self.receivedAt = receivedAt
            }

            enum CodingKeys: String, CodingKey {
                case id, link, sealed, proof
                case receivedAt = "received_at"
            }
        }

        public var requests: [Request]

        public init(requests: [Request]) { self.requests = requests }
    }

    /// `PUT /v1/relay/vaults/{vault}/requests`: the customer's decisions, with the sealed token.
    public struct Decisions: Codable, Sendable {
        public struct Decision: Codable, Sendable, Equatable {
            public var id: String
            public var status: String
            public var decidedAt: Int64
            public var grantID: String?
            public var endpoint: String?
            public var tokenSealed: String?

            public init(id: String, status: String, decidedAt: Int64, grantID: String?, endpoint: String?, tokenSealed: String?) {
                self.id = id
                self.status = status
                self.decidedAt = decidedAt
                self.grantID = grantID
                self.endpoint = endpoint
                self.tokenSealed = tokenSealed
            }

            enum CodingKeys: String, CodingKey {
                case id, status, endpoint
                case decidedAt = "decided_at", grantID = "grant_id", tokenSealed = "token_sealed"
            }
        }

        public var decisions: [Decision]

        public init(decisions: [Decision]) { self.decisions = decisions }
    }
}

extension RelayWire {
    /// `PUT /v1/relay/vaults/{vault}/notify`: the notification key pair (the relay signs vendors'
    /// events and the customer's webhook notices with it), its certificate by the vault's
    /// signing key, and the customer's channel (absent: none).
    public struct Notify: Codable, Sendable {
        public struct Channel: Codable, Sendable, Equatable {
            public var kind: String
            public var url: String
            public var interval: Int64

            public init(kind: String, url: String, interval: Int64) {
                self.kind = kind
                self.url = url
                self.interval = interval
            }
        }

        public var keyID: String
        public var publicKey: String
        public var secretKey: String
        public var certificate: String
        public var channel: Channel?

        public init(keyID: String, publicKey: String, secretKey: String, certificate: String, channel: Channel?) {
            self.keyID = keyID
            self.publicKey = publicKey
            self.secretKey = secretKey
            self.certificate = certificate
            self.channel = channel
        }

        enum CodingKeys: String, CodingKey {
            case certificate, channel
            case keyID = "key_id", publicKey = "public_key", secretKey = "secret_key"
        }
    }
}

extension RelayWire {
    /// `GET /v1/relay/vaults/{vault}/webhooks?grant=ID`: a grant's latest webhook events and how
    /// their delivery stands (`vrm grant show`).
    public struct WebhookEvents: Codable, Sendable {
        public struct Event: Codable, Sendable, Equatable {
            public var id: String
            public var createdAt: Int64
            public var attempts: Int64
            public var nextAt: Int64
            public var lastStatus: Int64?
            public var lastError: String?
            public var deliveredAt: Int64?
            public var stoppedAt: Int64?

            public init(
                id: String, createdAt: Int64, attempts: Int64, nextAt: Int64, lastStatus: Int64?, lastError: String?, deliveredAt: Int64?,
                stoppedAt: Int64?
            ) {
                self.id = id
                self.createdAt = createdAt
                self.attempts = attempts
                self.nextAt = nextAt
                self.lastStatus = lastStatus
                self.lastError = lastError
                self.deliveredAt = deliveredAt
                self.stoppedAt = stoppedAt
            }

            enum CodingKeys: String, CodingKey {
                case id, attempts
                case createdAt = "created_at", nextAt = "next_at", lastStatus = "last_status", lastError = "last_error"
                case deliveredAt = "delivered_at", stoppedAt = "stopped_at"
            }
        }

        public var events: [Event]

        public init(events: [Event]) { self.events = events }
    }
}
