public import VaultCrypto

/// What a vendor presented.
public struct RedemptionRequest: Sendable {
    /// The presented token, parsed when the request is made (on the request's own thread, not
    /// the single commit writer); nil when missing or malformed.
    public let token: GrantToken?
    public var client: String
    public var userAgent: String?
    /// The share versions the vendor says it holds (HTTP's `If-None-Match`, parsed by the
    /// server); nil for an unconditional request.
    public var held: HeldVersions?
    /// The client is over its failure limit: the request is answered only if its token is
    /// genuine; otherwise `rateLimited`, and nothing is recorded.
    public var limited = false

    public init(token: Substring?, client: String, userAgent: String?, held: HeldVersions?) {
        self.token = token.flatMap { try? GrantToken.parse($0) }
        self.client = client
        self.userAgent = userAgent
        self.held = held
    }
}

/// Share versions a vendor already holds. A redemption whose current share version is held
/// answers `notModified` and is not counted.
public enum HeldVersions: Sendable, Equatable {
    /// Whatever the current version is (HTTP's `If-None-Match: *`).
    case any
    /// These versions (possibly none: a condition that matches nothing).
    case versions(Set<Int>)

    /// Whether `version` is held.
    public func includes(_ version: Int) -> Bool {
        switch self {
        case .any: true
        case .versions(let versions): versions.contains(version)
        }
    }
}

/// What the server answers.
public enum RedemptionOutcome: Sendable, Equatable {
    /// 200: the JSON body to send, its version (ETag) and binding.
    case share(body: [UInt8], version: Int, binding: GrantBinding)
    /// 304: the vendor already holds this version.
    case notModified(version: Int)
    /// 401: unknown, malformed or wrong-secret token — indistinguishable on purpose.
    case invalidToken
    /// 403: the token is genuine but the grant is revoked, expired or used up.
    case denied(GrantState)
    /// 429: the client is over its failure limit and its token is not genuine. Nothing is
    /// recorded (a genuine token is answered whatever other requests from its address did).
    case rateLimited
}

/// A redemption after its read-only phase (`Redeemer.prepare`), ready for the writer.
public struct PreparedRedemption: Sendable {
    enum Step: Sendable {
        /// A denial: record it, then answer.
        case deny(outcome: RedemptionOutcome, auditBody: [UInt8])
        /// An approval as of the read: count it if the grant is unchanged, record it, then release.
        case redeem(grant: RedeemableGrant.Key, version: Int, outcome: RedemptionOutcome, auditBody: [UInt8])
        /// Answered without writing anything (a rate-limited request with a token that is not genuine).
        case answer(RedemptionOutcome)
        /// Not settled by the read: the writer does it all.
        case full
    }

    let request: RedemptionRequest
    let step: Step
}
