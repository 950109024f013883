import VaultCrypto

/// What a redemption comes to for a grant: the checks shared by `Redeemer.prepare` (from a
/// cached grant) and the writer (from a fresh read under the write lock).
enum RedemptionDecision {
    /// Refused, recorded as `share.denied` with this reason.
    case deny(reason: String, outcome: RedemptionOutcome)
    case notModified(version: Int)
    /// Approved: these bytes go to the vendor once the use is counted and recorded.
    case release(version: Int, body: [UInt8], binding: GrantBinding)
    /// Nothing may be written or released (a missing or tampered share).
    case failed(any Error)

    /// The rules, in order: the token's secret (401), the grant's state (403), the share's
    /// presence, the versions the vendor holds (304), then the share's bytes.
    static func decide(
        _ request: RedemptionRequest, token: GrantToken, grant: RedeemableGrant, nowMillis: Int64,
        vaultID: [UInt8]
    ) -> RedemptionDecision {
        guard token.matches(secretHash: grant.secretHash) else {
            return .deny(reason: "invalid_token", outcome: .invalidToken)
        }
        let state = grant.state(nowMillis: nowMillis)
        guard state == .active else {
            return .deny(reason: state == .usedUp ? "used_up" : state.rawValue, outcome: .denied(state))
        }
        guard let share = grant.share else {
            return .failed(VaultError.corrupt("the share of grant \(grant.id) is missing"))
        }
        if let held = request.held, held.includes(share.version) {
            return .notModified(version: share.version)
        }
        do {
            return .release(version: share.version, body: try release(share, of: grant, token: token, vaultID: vaultID), binding: grant.binding)
        } catch {
            return .failed(error)
        }
    }

    /// The bytes the vendor receives for `share`: the opened bearer share, or the sealed one wrapped.
    private static func release(
        _ share: (version: Int, body: [UInt8]), of grant: RedeemableGrant, token: GrantToken,
        vaultID: [UInt8]
    ) throws -> [UInt8] {
        switch grant.binding {
        case .bearer:
            let key = try token.shareKey(grantID: grant.id)
            do {
                return try AEAD.open(
                    share.body, key: key,
                    associatedData: ShareCipher.associatedData(
                        vaultID: vaultID, grantID: grant.id, version: share.version,
                        limits: grant.bindsPolicy ? (grant.expiresAt, grant.maxUses) : nil))
            } catch {
                throw VaultError.tampered(table: "shares", id: grant.id)
            }
        case .key:
            return SealedShare(grantID: grant.id, version: share.version, sealed: share.body).jsonBytes
        }
    }
}
