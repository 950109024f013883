/// The grant-state rule, once in Swift and once in SQL, side by side: change both or neither.
/// `GrantStateRuleTests` evaluates both on every state (and on the edges between them) and
/// fails when they disagree.
///
/// Revocation wins over expiry, expiry over the use limit. Grant states only move away from
/// active: revocation, expiry and used-up limits are final.
extension GrantState {
    /// The single rule for grant state, used by the CLI and the server alike.
    public static func evaluate(revokedAt: Int64?, expiresAt: Int64?, maxUses: Int?, useCount: Int, nowMillis: Int64) -> GrantState {
        if revokedAt != nil { return .revoked }
        if let expiresAt, expiresAt <= nowMillis { return .expired }
        if let maxUses, useCount >= maxUses { return .usedUp }
        return .active
    }
}

/// `GrantState.evaluate` as SQL over the columns of a `grants` row, for the queries that select
/// or guard by state (re-materialisation, purging shares, the redemption's guarded count).
/// `now` and `uses` are SQL expressions (a parameter such as `?` or `?3`, or a literal).
public enum GrantStateSQL {
    public static let revoked = "revoked_at IS NOT NULL"

    public static func expired(now: String) -> String {
        "(expires_at IS NOT NULL AND expires_at <= \(now))"
    }

    /// Used up once `uses` more uses would pass the limit (`uses` = 1: the limit is reached).
    public static func usedUp(uses: String = "1") -> String {
        "(max_uses IS NOT NULL AND use_count + \(uses) > max_uses)"
    }

    /// True for a row `evaluate` calls active (that also has `uses` uses left).
    public static func active(now: String, uses: String = "1") -> String {
        "NOT (\(revoked) OR \(expired(now: now)) OR \(usedUp(uses: uses)))"
    }

    /// The state's raw value (`active`, `expired`, `used-up`, `revoked`), in `evaluate`'s order.
    public static func state(now: String) -> String {
        """
        CASE WHEN \(revoked) THEN '\(GrantState.revoked.rawValue)' WHEN \(expired(now: now)) THEN '\(GrantState.expired.rawValue)' \
        WHEN \(usedUp()) THEN '\(GrantState.usedUp.rawValue)' ELSE '\(GrantState.active.rawValue)' END
        """
    }
}
