import Foundation
import NIOCore
import PostgresNIO
import VaultCore
import VaultCrypto

/// The relay's access-request inbox (`Specs/requests.md`): links pushed by the customer's CLI,
/// requests stored sealed, decisions pushed back. The relay opens nothing.
struct RelayRequestInbox: RequestInbox {
    let database: RelayDatabase

    func receive(code: RequestAuth, body: RequestBodyParts, nowMillis: Int64) throws -> String {
        guard let link = try database.requestLink(selector: code.selector) else { throw RequestRefusal.invalidCode }
        let genuine = code.matches(secretHash: link.codeHash)
        guard genuine, link.usedAt == nil, nowMillis < link.expiresAt else { throw RequestRefusal.invalidCode }
        guard let (sealed, proof) = body.checked(by: code) else { throw RequestRefusal.invalidBody }
        guard let vault = try database.vault(id: link.vaultID) else { throw RequestRefusal.invalidCode }
        let writer = try AuditWriter(vaultBoxPublicKey: vault.boxKey)
        let id = RequestID.generate()
        try RelayVaultStore(database: database, vault: vault).locked { transaction in
            let c = transaction.c
            let used = try c.query(
                """
                UPDATE relay_request_links SET used_at = \(nowMillis)
                WHERE selector = \(Data(code.selector)) AND vault_id = \(Data(vault.id)) AND used_at IS NULL AND expires_at > \(nowMillis)
                """)
            guard used.metadata.rows == 1 else { throw RequestRefusal.invalidCode }
            try c.query(
                """
                INSERT INTO relay_requests (id, vault_id, link_selector, link_expires_at, sealed, proof, received_at, status)
                VALUES (\(id), \(Data(vault.id)), \(Data(code.selector)), \(link.expiresAt), \(Data(sealed)), \(Data(proof)), \(nowMillis), 'pending')
                """)
            try writer.append(.requestReceived, AuditBody(requestID: id, link: Hex.encode(code.selector)), atMillis: nowMillis, to: transaction)
        }
        return id
    }

    func outcome(id: String, nowMillis: Int64) throws -> RequestOutcome {
        guard RequestID.isWellFormed(id), let row = try database.requestRow(id: id) else { throw RequestRefusal.unknownRequest }
        return RequestOutcome.from(
            id: id, status: row.status, decidedAt: row.decidedAt, grantID: row.grantID, endpoint: row.endpoint,
            tokenSealed: row.tokenSealed, linkExpiresAt: row.linkExpiresAt, nowMillis: nowMillis)
    }
}

/// A `relay_request_links` row.
struct RelayRequestLink {
    var vaultID: [UInt8]
    var codeHash: [UInt8]
    var expiresAt: Int64
    var usedAt: Int64?
}

/// What the relay answers a request's outcome from.
struct RelayRequestRow {
    var status: String
    var decidedAt: Int64?
    var grantID: String?
    var endpoint: String?
    var tokenSealed: [UInt8]?
    var linkExpiresAt: Int64
}

extension RelayDatabase {
    func requestLink(selector: [UInt8]) throws -> RelayRequestLink? {
        try withConnection { c in
            guard
                let row = try c.query(
                    "SELECT vault_id, code_hash, expires_at, used_at FROM relay_request_links WHERE selector = \(Data(selector))"
                ).rows.first
            else { return nil }
            let (vault, hash, expires, used) = try row.decode((Data, Data, Int64, Int64?).self)
            return RelayRequestLink(vaultID: vault.bytes, codeHash: hash.bytes, expiresAt: expires, usedAt: used)
        }
    }

    func requestRow(id: String) throws -> RelayRequestRow? {
        try withConnection { c in
            guard
                let row = try c.query(
                    "SELECT status, decided_at, grant_id, endpoint, token_sealed, link_expires_at FROM relay_requests WHERE id = \(id)"
                ).rows.first
            else { return nil }
            let (status, decided, grant, endpoint, token, expires) = try row.decode((String, Int64?, String?, String?, Data?, Int64).self)
            return RelayRequestRow(
                status: status, decidedAt: decided, grantID: grant, endpoint: endpoint, tokenSealed: token?.bytes, linkExpiresAt: expires)
        }
    }

    /// Stores request links pushed by the vault (a selector another vault holds is refused).
    public func storeLinks(vaultID: [UInt8], links: [RelayWire.RequestLinks.Link], nowMillis: Int64) throws {
        try transaction { c in
            guard !(try c.query("SELECT 1 FROM relay_vaults WHERE id = \(Data(vaultID))").rows.isEmpty) else { throw RelayError.unknownVault }
            for link in links {
                guard let selector = Base64URL.decode(link.selector), selector.count == RequestCode.selectorBytes,
                    let hash = Base64URL.decode(link.codeHash), hash.count == 32
                else { throw RelayError.invalidGrant("a request link is not well-formed") }
                let stored = try c.query(
                    """
                    INSERT INTO relay_request_links (selector, vault_id, code_hash, expires_at) VALUES (\(Data(selector)), \(Data(vaultID)), \(Data(hash)), \(link.expiresAt))
                    ON CONFLICT (selector) DO UPDATE SET code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at
                    WHERE relay_request_links.vault_id = EXCLUDED.vault_id
                    """)
                guard stored.metadata.rows == 1 else { throw RelayError.invalidGrant("a request link's selector is taken") }
            }
            // Links past their expiry and never used are of no more use.
            try c.query("DELETE FROM relay_request_links WHERE used_at IS NULL AND expires_at < \(nowMillis)")
        }
    }

    /// The vault's undecided requests, oldest first.
    public func pendingRequests(vaultID: [UInt8]) throws -> [RelayWire.PendingRequests.Request] {
        try withConnection { c in
            try c.query(
                """
                SELECT id, link_selector, sealed, proof, received_at FROM relay_requests
                WHERE vault_id = \(Data(vaultID)) AND status = 'pending' ORDER BY received_at, id LIMIT 1000
                """
            ).rows.map { row in
                let (id, link, sealed, proof, received) = try row.decode((String, Data, Data, Data, Int64).self)
                return RelayWire.PendingRequests.Request(
                    id: id, link: Base64URL.encode(link.bytes), sealed: Base64URL.encode(sealed.bytes), proof: Base64URL.encode(proof.bytes),
                    receivedAt: received)
            }
        }
    }

    /// Records the customer's decisions on the vault's requests.
    public func storeDecisions(vaultID: [UInt8], decisions: [RelayWire.Decisions.Decision], nowMillis: Int64) throws {
        try transaction { c in
            for decision in decisions {
                guard RequestID.isWellFormed(decision.id), ["approved", "denied"].contains(decision.status) else {
                    throw RelayError.invalidGrant("a decision is not well-formed")
                }
                let token = try decision.tokenSealed.map { text -> Data in
                    guard let bytes = Base64URL.decode(text), bytes.count <= 4096 else { throw RelayError.invalidGrant("a sealed token is not well-formed") }
                    return Data(bytes)
                }
                try c.query(
                    """
                    UPDATE relay_requests SET status = \(decision.status), decided_at = \(decision.decidedAt), grant_id = \(decision.grantID),
                        endpoint = \(decision.endpoint), token_sealed = \(token)
                    WHERE id = \(decision.id) AND vault_id = \(Data(vaultID))
                    """)
            }
            // Sealed tokens are kept 7 days after the decision; undecided requests 7 days past their link.
            try c.query(
                "UPDATE relay_requests SET token_sealed = NULL WHERE token_sealed IS NOT NULL AND decided_at < \(nowMillis - RequestLimits.sealedTokenMillis)")
            // Answered requests are kept 30 days (the vendor may ask how it went), undecided ones
            // 30 days after they expired; links past their expiry and never used go too.
            let keep: Int64 = 30 * 86_400_000
            try c.query(
                """
                DELETE FROM relay_requests WHERE vault_id = \(Data(vaultID)) AND (decided_at < \(nowMillis - keep)
                    OR (decided_at IS NULL AND link_expires_at < \(nowMillis - RequestLimits.pendingGraceMillis - keep)))
                """)
        }
    }
}
