public import Foundation
public import VaultCrypto

/// Where an endpoint takes access requests and answers their outcome (`Specs/requests.md`
/// §2, §4): the vault file for `vrm serve` (`VaultRequestInbox`), the relay's PostgreSQL for
/// the relay. Neither can open a request.
public protocol RequestInbox: Sendable {
    /// Stores a request whose code and transit MAC check out (with its proof, which only the
    /// CLI can check), marks the code used and records `request.received`; returns the new
    /// request's id. `sealed`, `mac` and `proof` are nil when malformed. Throws `RequestRefusal`.
    func receive(code: RequestAuth, body: RequestBodyParts, nowMillis: Int64) throws -> String
    /// The outcome of a request; throws `RequestRefusal.unknownRequest`.
    func outcome(id: String, nowMillis: Int64) throws -> RequestOutcome
}

/// A submission's binary parts, each nil when malformed (checked once the code is known good).
public struct RequestBodyParts: Sendable {
    public let sealed: [UInt8]?
    public let mac: [UInt8]?
    public let proof: [UInt8]?

    /// The sealed request, the MAC and the proof, when all are well-formed and the MAC is the
    /// transit MAC of the sealed request under `code`.
    public func checked(by code: RequestAuth) -> (sealed: [UInt8], proof: [UInt8])? {
        guard let sealed, let mac, let proof, code.verifies(mac: mac, sealed: sealed) else { return nil }
        return (sealed, proof)
    }
}

extension RequestSubmission {
    /// The checks both endpoints make before an inbox looks the code up: the form of the
    /// selector and `auth`. The sealed request's size and the body's encoding are checked after
    /// the code is known good, so a wrong code is one answer whatever else the body holds.
    public func parsed() throws -> (code: RequestAuth, body: RequestBodyParts) {
        guard let selector = Base64URL.decode(selector), selector.count == RequestCode.selectorBytes, let auth = Base64URL.decode(auth),
            auth.count == 32
        else { throw RequestRefusal.invalidCode }
        let fits = sealed.utf8.count <= (RequestLimits.maxSealedBytes * 4 + 2) / 3 + 4
        let box = (fits ? Base64URL.decode(sealed) : nil).flatMap { $0.count > 48 && $0.count <= RequestLimits.maxSealedBytes ? $0 : nil }
        func tag(_ text: String) -> [UInt8]? { Base64URL.decode(text).flatMap { $0.count == 32 ? $0 : nil } }
        return (RequestAuth(selector: selector, auth: auth), RequestBodyParts(sealed: box, mac: tag(mac), proof: tag(proof)))
    }
}

/// `vrm serve`'s inbox: the vault file, written without the vault key. The history entry is
/// sealed to the vault key by an `AuditWriter` of this run.
public struct VaultRequestInbox: RequestInbox {
    let database: VaultDatabase
    let audit: AuditWriter

    public init(database: VaultDatabase) throws {
        self.database = database
        audit = try AuditWriter(vaultBoxPublicKey: database.header.boxPublicKey)
    }

    public func receive(code: RequestAuth, body: RequestBodyParts, nowMillis: Int64) throws -> String {
        try database.write { transaction in
            let requests = transaction.requests
            // Unknown, used and expired codes are one answer, after the hash comparison.
            guard let link = try requests.link(selector: code.selector) else { throw RequestRefusal.invalidCode }
            let genuine = code.matches(secretHash: link.codeHash)
            guard genuine, link.usedAt == nil, nowMillis < link.expiresAt else { throw RequestRefusal.invalidCode }
            guard let (sealed, proof) = body.checked(by: code) else { throw RequestRefusal.invalidBody }
            guard try requests.markUsed(selector: code.selector, atMillis: nowMillis) else { throw RequestRefusal.invalidCode }
            let id = RequestID.generate()
            try requests.insertRequest(id: id, linkSelector: code.selector, sealed: sealed, proof: proof, receivedAt: nowMillis)
            try audit.append(.requestReceived, AuditBody(requestID: id, link: Hex.encode(code.selector)), atMillis: nowMillis, to: transaction.audit)
            return id
        }
    }

    public func outcome(id: String, nowMillis: Int64) throws -> RequestOutcome {
        guard RequestID.isWellFormed(id) else { throw RequestRefusal.unknownRequest }
        return try database.read { transaction in
            guard let row = try transaction.requests.request(id: id) else { throw RequestRefusal.unknownRequest }
            let expires = try transaction.requests.link(selector: row.linkSelector)?.expiresAt ?? row.receivedAt
            return RequestOutcome.from(
                id: row.id, status: row.status, decidedAt: row.decidedAt, grantID: row.grantID, endpoint: row.endpoint,
                tokenSealed: row.tokenSealed, linkExpiresAt: expires, nowMillis: nowMillis)
        }
    }
}
