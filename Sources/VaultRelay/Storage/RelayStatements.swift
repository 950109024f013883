import Foundation
import NIOCore
import PostgresNIO
import VaultCore
import VaultCrypto

/// A vault as the relay knows it: its id and public keys.
public struct RelayVault: Sendable, Equatable {
    public var id: [UInt8]
    public var signKey: [UInt8]
    public var boxKey: [UInt8]
}

/// The relay's statements outside redemption (`RelayVaultStore` has those).
extension RelayDatabase {
    // MARK: Invites and enrolment

    /// Stores a new invite's hash; the code itself is shown once to the operator.
    public func createInvite(codeHash: [UInt8], nowMillis: Int64, expiresAt: Int64) throws {
        _ = try withConnection { c in
            try c.query(
                "INSERT INTO relay_invites (code_hash, created_at, expires_at) VALUES (\(Data(codeHash)), \(nowMillis), \(expiresAt))")
        }
    }

    /// Enrols a vault with an invite, consuming the invite, in one transaction.
    public func enrol(_ vault: RelayVault, inviteHash: [UInt8], nowMillis: Int64) throws {
        try transaction { c in
            let used = try c.query(
                "DELETE FROM relay_invites WHERE code_hash = \(Data(inviteHash)) AND expires_at > \(nowMillis) RETURNING created_at")
            guard !used.rows.isEmpty else { throw RelayError.invalidInvite }
            let inserted = try c.query(
                """
                INSERT INTO relay_vaults (id, sign_key, box_key, enrolled_at, tip_seq, tip_hash)
                VALUES (\(Data(vault.id)), \(Data(vault.signKey)), \(Data(vault.boxKey)), \(nowMillis), 0, \(Data(AuditChain.genesis)))
                ON CONFLICT (id) DO NOTHING
                """)
            guard inserted.metadata.rows == 1 else { throw RelayError.alreadyEnrolled }
        }
        try sweepInvites(nowMillis: nowMillis)
    }

    private func sweepInvites(nowMillis: Int64) throws {
        _ = try withConnection { c in try c.query("DELETE FROM relay_invites WHERE expires_at <= \(nowMillis)") }
    }

    /// Replaces the vault's X25519 key (after the customer rotated it). Every node's redemption
    /// store notices at its next transaction (`RelayVaultStore`) and seals to the new key.
    public func updateBoxKey(vaultID: [UInt8], boxKey: [UInt8]) throws {
        try withConnection { c in
            guard try c.query("UPDATE relay_vaults SET box_key = \(Data(boxKey)) WHERE id = \(Data(vaultID))").metadata.rows == 1 else {
                throw RelayError.unknownVault
            }
        }
    }

    /// The vault with this id; nil when the relay holds none.
    public func vault(id: [UInt8]) throws -> RelayVault? {
        try withConnection { c in
            let rows = try c.query("SELECT sign_key, box_key FROM relay_vaults WHERE id = \(Data(id))").rows
            guard let row = rows.first else { return nil }
            let (sign, box) = try row.decode((Data, Data).self)
            return RelayVault(id: id, signKey: sign.bytes, boxKey: box.bytes)
        }
    }

    /// The vault holding the grant whose token has this selector; nil when none does.
    public func vault(selector: [UInt8]) throws -> RelayVault? {
        try withConnection { c in
            let rows = try c.query(
                """
                SELECT v.id, v.sign_key, v.box_key FROM relay_grants AS g JOIN relay_vaults AS v ON v.id = g.vault_id
                WHERE g.selector = \(Data(selector))
                """
            ).rows
            guard let row = rows.first else { return nil }
            let (id, sign, box) = try row.decode((Data, Data, Data).self)
            return RelayVault(id: id.bytes, signKey: sign.bytes, boxKey: box.bytes)
        }
    }

    /// Records a signed request's nonce; false when it was seen before (a replay).
    public func useNonce(vaultID: [UInt8], nonce: [UInt8], nowMillis: Int64) throws -> Bool {
        try withConnection { c in
            // Expired nonces go now and then (they are refused by their time anyway).
            if Int.random(in: 0..<64) == 0 { try c.query("DELETE FROM relay_nonces WHERE expires_at <= \(nowMillis)") }
            let expires = nowMillis + 2 * RequestSignature.windowMillis
            let inserted = try c.query(
                """
                INSERT INTO relay_nonces (vault_id, nonce, expires_at) VALUES (\(Data(vaultID)), \(Data(nonce)), \(expires))
                ON CONFLICT DO NOTHING
                """)
            return inserted.metadata.rows == 1
        }
    }

    // MARK: Grants

    /// Most grants (and deletions) one push may carry: one vault cannot hold a pooled
    /// connection for long (the CLI sends 200 at a time).
    public static let maxPushedGrants = 1000

    /// Stores or updates pushed grants and deletes others, in one transaction. Revocation is
    /// final and use counts only grow, whatever a push says; a grant that is not active keeps no
    /// share. Returns what the relay now holds of each grant pushed.
    public func push(vaultID: [UInt8], grants: [RelayWire.Grant], deleted: [String], nowMillis: Int64) throws -> [RelayWire.GrantStatus] {
        guard grants.count <= Self.maxPushedGrants, deleted.count <= Self.maxPushedGrants else {
            throw RelayError.invalidGrant("at most \(Self.maxPushedGrants) grants and \(Self.maxPushedGrants) deletions per push")
        }
        let parsed = try grants.map(ParsedGrant.init)
        return try transaction { c in
            guard !(try c.query("SELECT 1 FROM relay_vaults WHERE id = \(Data(vaultID)) FOR UPDATE").rows.isEmpty) else {
                throw RelayError.unknownVault
            }
            for id in deleted {
                try c.query("DELETE FROM relay_grants WHERE vault_id = \(Data(vaultID)) AND id = \(id)")
            }
            // A grant whose selector another grant holds, or whose id this vault holds with
            // another selector or secret, is refused alone: the rest of the push goes on.
            let existing = try c.query(
                """
                SELECT selector, vault_id, id, secret_hash FROM relay_grants
                WHERE selector = ANY(\(parsed.map { ByteBuffer(bytes: $0.selector) })::bytea[])
                    OR (vault_id = \(Data(vaultID)) AND id = ANY(\(parsed.map(\.id))::text[]))
                """
            ).rows.map { row in
                let (selector, vault, id, hash) = try row.decode((Data, Data, String, Data).self)
                return (selector: selector.bytes, vault: vault.bytes, id: id, hash: hash.bytes)
            }
            var statuses: [RelayWire.GrantStatus] = []
            for grant in parsed {
                let clash = existing.contains { row in
                    (row.selector == grant.selector && (row.vault != vaultID || row.id != grant.id))
                        || (row.vault == vaultID && row.id == grant.id && (row.selector != grant.selector || row.hash != grant.secretHash))
                }
                if clash {
                    statuses.append(
                        RelayWire.GrantStatus(
                            id: grant.id, version: 0, useCount: 0, revoked: false, hasShare: false,
                            rejected: "its selector or secret hash clashes with a grant the relay holds already"))
                    continue
                }
                let inactive = "NOT \(GrantStateSQL.active(now: "$13"))"
                var binds = PostgresBindings()
                try binds.append(Data(grant.selector))
                try binds.append(Data(vaultID))
                binds.append(grant.id)
                try binds.append(Data(grant.secretHash))
                binds.append(grant.binding)
                binds.append(grant.expiresAt)
                binds.append(grant.maxUses)
                binds.append(grant.useCount)
                binds.append(grant.revokedAt)
                binds.append(grant.version)
                try binds.append(grant.share.map { Data($0) })
                binds.append(grant.bindsPolicy)
                binds.append(nowMillis)
                binds.append(grant.notifyURL)
                // `old` is the row before this statement (a CTE sees the statement's snapshot):
                // a version above it is a change to announce (`Specs/requests.md` §5).
                let sql = """
                    WITH old AS (SELECT share_version FROM relay_grants WHERE vault_id = $2 AND id = $3)
                    INSERT INTO relay_grants AS g (selector, vault_id, id, secret_hash, binding, expires_at, max_uses, use_count,
                        revoked_at, share_version, share_body, binds_policy, notify_url)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14)
                    ON CONFLICT (vault_id, id) DO UPDATE SET
                        revoked_at = COALESCE(g.revoked_at, EXCLUDED.revoked_at),
                        use_count = GREATEST(g.use_count, EXCLUDED.use_count),
                        share_version = GREATEST(g.share_version, EXCLUDED.share_version),
                        share_body = CASE WHEN EXCLUDED.share_version >= g.share_version THEN EXCLUDED.share_body ELSE g.share_body END,
                        notify_url = EXCLUDED.notify_url
                    WHERE g.selector = EXCLUDED.selector AND g.secret_hash = EXCLUDED.secret_hash
                    RETURNING g.share_version, g.use_count, g.revoked_at IS NOT NULL, (SELECT share_version FROM old),
                        \(GrantStateSQL.active(now: "$13"))
                    """
                let rows: [PostgresRow]
                do {
                    rows = try c.query(PostgresQuery(unsafeSQL: sql, binds: binds)).rows
                } catch RelayError.database(let text) where text.contains("23505") {
                    // Another vault took the selector since the check above (a race): the push is
                    // refused whole; the client retries, and the check then refuses this grant alone.
                    throw RelayError.invalidGrant("grant \(grant.id): its selector belongs to another grant")
                }
                guard let row = rows.first else {
                    throw RelayError.invalidGrant("grant \(grant.id): its selector or secret hash differs from the one stored")
                }
                // Whatever the push said: a grant that is not active keeps no share.
                var purge = PostgresBindings()
                try purge.append(Data(vaultID))
                purge.append(grant.id)
                purge.append(nowMillis)
                try c.query(
                    PostgresQuery(
                        unsafeSQL: """
                            UPDATE relay_grants SET share_body = NULL
                            WHERE vault_id = $1 AND id = $2 AND share_body IS NOT NULL AND \(inactive.replacingOccurrences(of: "$13", with: "$3"))
                            """, binds: purge))
                let (version, uses, revoked, before, active) = try row.decode((Int64, Int64, Bool, Int64?, Bool).self)
                if revoked {
                    try c.query(
                        """
                        UPDATE relay_webhooks SET stopped_at = \(nowMillis), last_error = 'not sent: the grant was revoked'
                        WHERE vault_id = \(Data(vaultID)) AND grant_id = \(grant.id) AND delivered_at IS NULL AND stopped_at IS NULL
                        """)
                } else if let url = grant.notifyURL, let before, version > before, active,
                    try c.query(
                        "SELECT 1 FROM relay_webhooks WHERE vault_id = \(Data(vaultID)) AND grant_id = \(grant.id) AND last_status = 410 LIMIT 1"
                    ).rows.isEmpty
                {
                    let body = Webhooks.shareUpdated(grantID: grant.id, version: Int(clamping: version), atMillis: nowMillis)
                    try c.query(
                        """
                        INSERT INTO relay_webhooks (id, vault_id, grant_id, url, body, created_at, attempts, next_at)
                        VALUES (\(Webhooks.eventID()), \(Data(vaultID)), \(grant.id), \(url), \(Data(body)), \(nowMillis), 0, \(nowMillis))
                        """)
                }
                statuses.append(RelayWire.GrantStatus(id: grant.id, version: version, useCount: uses, revoked: revoked, hasShare: false))
            }
            let shares = try Set(
                c.query("SELECT id FROM relay_grants WHERE vault_id = \(Data(vaultID)) AND share_body IS NOT NULL").rows.map {
                    try $0.decode(String.self)
                })
            return statuses.map { status in
                var status = status
                status.hasShare = status.rejected == nil && shares.contains(status.id)
                return status
            }
        }
    }

    /// What the relay holds of each of the vault's grants.
    public func grantStatuses(vaultID: [UInt8]) throws -> [RelayWire.GrantStatus] {
        try withConnection { c in try Self.statuses(vaultID: vaultID, c) }
    }

    static func statuses(vaultID: [UInt8], _ c: RelayConnection) throws -> [RelayWire.GrantStatus] {
        try c.query(
            """
            SELECT id, share_version, use_count, revoked_at IS NOT NULL, share_body IS NOT NULL
            FROM relay_grants WHERE vault_id = \(Data(vaultID)) ORDER BY id
            """
        ).rows.map { row in
            let (id, version, uses, revoked, share) = try row.decode((String, Int64, Int64, Bool, Bool).self)
            return RelayWire.GrantStatus(id: id, version: version, useCount: uses, revoked: revoked, hasShare: share)
        }
    }

    /// Destroys the shares of grants that are no longer active (expired, used up or revoked):
    /// the relay keeps no share it may not serve. Returns how many it destroyed.
    @discardableResult
    public func sweep(nowMillis: Int64) throws -> Int {
        try withConnection { c in
            var binds = PostgresBindings()
            binds.append(nowMillis)
            let result = try c.query(
                PostgresQuery(
                    unsafeSQL: "UPDATE relay_grants SET share_body = NULL WHERE share_body IS NOT NULL AND NOT \(GrantStateSQL.active(now: "$1"))",
                    binds: binds))
            try c.query("DELETE FROM relay_nonces WHERE expires_at <= \(nowMillis)")
            return result.metadata.rows ?? 0
        }
    }

    // MARK: History

    /// Entries after `after` (at most `limit`), the writers that sealed them, and every
    /// grant's use count.
    public func history(vaultID: [UInt8], after: Int64, limit: Int = 1000) throws -> RelayWire.History {
        try transaction { c in
            guard let vault = try c.query("SELECT tip_seq FROM relay_vaults WHERE id = \(Data(vaultID))").rows.first else {
                throw RelayError.unknownVault
            }
            let tip = try vault.decode(Int64.self)
            let take = Int64(max(1, min(limit, 5000)))
            let rows = try c.query(
                """
                SELECT seq, at_millis, event, writer_id, body, hash FROM relay_entries
                WHERE vault_id = \(Data(vaultID)) AND seq > \(after) ORDER BY seq LIMIT \(take + 1)
                """
            ).rows
            var entries = try rows.map { row in
                let (seq, at, event, writer, body, hash) = try row.decode((Int64, Int64, String, String, Data, Data).self)
                return RelayWire.Entry(
                    seq: seq, at: at, event: event, writer: writer, body: Base64URL.encode(body.bytes), hash: Base64URL.encode(hash.bytes))
            }
            let more = entries.count > Int(take)
            if more { entries.removeLast() }
            let used = Set(entries.map(\.writer))
            let writers = try c.query("SELECT id, public_key FROM relay_writers WHERE vault_id = \(Data(vaultID))").rows.compactMap {
                row -> RelayWire.Writer? in
                let (id, key) = try row.decode((String, Data).self)
                return used.contains(id) ? RelayWire.Writer(id: id, publicKey: Base64URL.encode(key.bytes)) : nil
            }
            return RelayWire.History(
                entries: entries, writers: writers, grants: try Self.statuses(vaultID: vaultID, c), tip: tip, more: more)
        }
    }

    /// Drops entries through `through` (the customer has them now), and writers no entry needs.
    public func acknowledge(vaultID: [UInt8], through: Int64) throws {
        try transaction { c in
            guard !(try c.query("SELECT 1 FROM relay_vaults WHERE id = \(Data(vaultID)) FOR UPDATE").rows.isEmpty) else {
                throw RelayError.unknownVault
            }
            try c.query("DELETE FROM relay_entries WHERE vault_id = \(Data(vaultID)) AND seq <= \(through)")
        }
    }

    /// Deletes everything the relay holds of the vault; true when there was something. The
    /// vault's recent nonces stay until they expire: a request signed before the unlink must not
    /// be replayed against a new enrolment.
    public func unlink(vaultID: [UInt8]) throws -> Bool {
        try withConnection { c in
            try c.query("DELETE FROM relay_vaults WHERE id = \(Data(vaultID))").metadata.rows == 1
        }
    }

    /// What the relay holds of the vault.
    public func status(vaultID: [UInt8]) throws -> RelayWire.VaultStatus {
        try withConnection { c in
            let rows = try c.query(
                """
                SELECT v.enrolled_at, v.tip_seq,
                    (SELECT count(*) FROM relay_grants WHERE vault_id = v.id),
                    (SELECT count(*) FROM relay_grants WHERE vault_id = v.id AND share_body IS NOT NULL),
                    (SELECT count(*) FROM relay_entries WHERE vault_id = v.id)
                FROM relay_vaults AS v WHERE v.id = \(Data(vaultID))
                """
            ).rows
            guard let row = rows.first else { throw RelayError.unknownVault }
            let (enrolled, tip, grants, shares, entries) = try row.decode((Int64, Int64, Int64, Int64, Int64).self)
            return RelayWire.VaultStatus(
                vaultID: Hex.encode(vaultID), enrolledAt: enrolled, grants: grants, activeShares: shares, pendingEntries: entries, tip: tip)
        }
    }
}

/// A pushed grant, checked and decoded.
struct ParsedGrant {
    let id: String
    let selector: [UInt8]
    let secretHash: [UInt8]
    let binding: String
    let expiresAt: Int64?
    let maxUses: Int64?
    let useCount: Int64
    let revokedAt: Int64?
    let version: Int64
    let share: [UInt8]?
    let bindsPolicy: Bool
    let notifyURL: String?

    init(_ grant: RelayWire.Grant) throws {
        func bad(_ what: String) -> RelayError { .invalidGrant("grant \(grant.id.prefix(64)): \(what)") }
        guard (1...64).contains(grant.id.utf8.count), grant.id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw RelayError.invalidGrant("a grant id must be 1-64 printable ASCII characters")
        }
        guard let selector = Base64URL.decode(grant.selector), selector.count == GrantToken.selectorBytes else { throw bad("selector") }
        guard let hash = Base64URL.decode(grant.secretHash), hash.count == 32 else { throw bad("secret_hash") }
        guard grant.binding == GrantBinding.bearer.rawValue || grant.binding == GrantBinding.key.rawValue else { throw bad("binding") }
        guard grant.useCount >= 0, grant.version >= 0, (grant.maxUses ?? 1) >= 1 else { throw bad("a negative count") }
        var share: [UInt8]?
        if let text = grant.share {
            guard let bytes = Base64URL.decode(text), !bytes.isEmpty else { throw bad("share") }
            share = bytes
        }
        id = grant.id
        self.selector = selector
        secretHash = hash
        binding = grant.binding
        expiresAt = grant.expiresAt
        maxUses = grant.maxUses
        useCount = grant.useCount
        revokedAt = grant.revokedAt
        version = grant.version
        self.share = share
        bindsPolicy = grant.bindsPolicy
        if let url = grant.notifyURL {
            do {
                try NotifyURL.check(url)
            } catch {
                throw bad("notify_url")
            }
        }
        notifyURL = grant.notifyURL
    }
}
