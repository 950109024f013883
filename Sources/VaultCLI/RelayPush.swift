import Foundation
import Synchronization
import VaultCore
import VaultCrypto
import VaultRelay

/// Keeps a linked relay current: after a command changed grants (issued, re-materialised,
/// revoked — queued by `GrantsTable` in the same transaction), their server-side state is pushed
/// before the command returns. When the relay cannot be reached the changes stay queued in
/// the vault, and the command exits 6 saying so (`RelayPending`).
enum RelayPush {
    /// Vaults this process unlocked (`UnlockOptions.unlock`), with what was queued then:
    /// flushed when the command ends.
    static let unlocked = Mutex<[(vault: Vault, queued: Set<String>)]>([])

    /// Remembers an unlocked vault for the flush at the end of the command.
    static func track(_ vault: Vault) {
        // A read-only vault changes nothing and cannot record a push.
        guard !vault.database.isReadOnly else { return }
        let queued = Set((try? vault.relay.queued()) ?? [])
        unlocked.withLock { $0.append((vault, queued)) }
    }

    /// What a flush did.
    struct Flushed {
        let url: String
        /// Grants pushed.
        let pushed: Int
        /// Request links, decisions and notification settings pushed.
        var others = 0
    }

    /// Pushes the vault's queued grants, and `including` (a grant the command itself changed,
    /// queued or not); nil when the vault is not linked or there is nothing to push.
    /// Revocations go first, in a batch of their own kind. A grant the relay refused, or whose
    /// change its answer does not show, stays queued and fails the flush.
    @discardableResult
    static func flush(_ vault: Vault, including: [String] = []) async throws -> Flushed? {
        guard let state = try vault.relay.state() else { return nil }
        if state.boxKeyPending == true {
            // After a key rotation: the relay seals its entries to the new key from now on.
            do {
                try await client(for: vault, state: state).updateBoxKey(vault.database.header.boxPublicKey)
            } catch {
                throw RelayPending(url: state.url, queued: 0, revocations: [], reason: error, what: "the vault's new key")
            }
            try vault.relay.boxKeyDelivered()
        }
        let queued = try vault.relay.queued()
        let all = queued + including.filter { !queued.contains($0) }
        guard !all.isEmpty else { return nil }
        let (ids, linkIDs, requestIDs, notifyIDs) = RelayLink.partition(all)
        let client = try client(for: vault, state: state)
        // The notification key first: the grants' events are signed with it.
        if !notifyIDs.isEmpty {
            if let settings = try vault.relay.notifySettings() {
                do {
                    try await client.pushNotify(
                        RelayWire.Notify(
                            keyID: settings.keyID, publicKey: Base64URL.encode(settings.publicKey), secretKey: Base64URL.encode(settings.secretKey),
                            certificate: settings.certificate,
                            channel: settings.channel.map { .init(kind: $0.kind.rawValue, url: $0.url, interval: $0.interval) }))
                } catch {
                    throw RelayPending(url: state.url, queued: 1, revocations: [], reason: error, what: "the notification settings")
                }
            }
            try vault.relay.dequeue(ids: notifyIDs)
        }
        if !ids.isEmpty { try await pushGrants(ids, vault: vault, client: client, url: state.url) }
        // Links and decisions after the grants: an approval's grant must be at the relay
        // before the vendor can learn of it.
        if !linkIDs.isEmpty || !requestIDs.isEmpty {
            let (links, decisions) = try vault.relay.requestPushes(links: linkIDs, requests: requestIDs)
            do {
                if !links.isEmpty {
                    try await client.pushLinks(
                        links.map { .init(selector: Base64URL.encode($0.selector), codeHash: Base64URL.encode($0.codeHash), expiresAt: $0.expiresAt) })
                }
                if !decisions.isEmpty {
                    try await client.pushDecisions(
                        decisions.map {
                            .init(
                                id: $0.id, status: $0.status, decidedAt: $0.decidedAt, grantID: $0.grantID, endpoint: $0.endpoint,
                                tokenSealed: $0.tokenSealed.map(Base64URL.encode))
                        })
                }
            } catch {
                throw RelayPending(
                    url: state.url, queued: linkIDs.count + requestIDs.count, revocations: [], reason: error,
                    what: [Self.counted(linkIDs.count, "request link"), Self.counted(requestIDs.count, "decision")].compactMap { $0 }.joined(separator: " and ")
                )
            }
            try vault.relay.dequeue(ids: linkIDs + requestIDs)
        }
        return Flushed(url: state.url, pushed: ids.count, others: notifyIDs.count + linkIDs.count + requestIDs.count)
    }

    /// "1 decision", "2 decisions"; nil for none.
    static func counted(_ count: Int, _ noun: String) -> String? {
        count == 0 ? nil : "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    /// Pulls the requests the relay took into the vault (`vrm request list`, `show`, decisions),
    /// when the vault is linked; a relay out of reach is said on stderr (or, `quiet`, only
    /// returned, for `vrm ui`'s page), and the vault's copy used.
    @discardableResult
    static func pullRequests(_ vault: Vault, quiet: Bool = false) async throws -> String? {
        guard let state = try vault.relay.state() else { return nil }
        let pending: [RelayWire.PendingRequests.Request]
        do {
            pending = try await client(for: vault, state: state).pendingRequests()
        } catch {
            let note = "cannot reach the relay at \(state.url) for new requests (\(error)); showing what this vault has."
            if !quiet { Terminal.note("vrm: note: " + note) }
            return note
        }
        // The relay sends at most 1000 (oldest first); a relay that sends more is not taken at its word.
        try vault.relay.storePulled(
            pending.prefix(1000).compactMap { r in
                guard let link = Base64URL.decode(r.link), let sealed = Base64URL.decode(r.sealed), let proof = Base64URL.decode(r.proof) else {
                    return nil
                }
                return PulledRequest(id: r.id, linkSelector: link, sealed: sealed, proof: proof, receivedAt: r.receivedAt)
            })
        return nil
    }

    /// Pushes grants (revocations first) and checks the relay's answer shows every change.
    private static func pushGrants(_ ids: [String], vault: Vault, client: RelayClient, url: String) async throws {
        let (unordered, deleted) = try vault.relay.grantStates(ids: ids)
        let grants = unordered.filter { $0.revokedAt != nil } + unordered.filter { $0.revokedAt == nil }
        let statuses: [RelayWire.GrantStatus]
        do {
            statuses = try await client.push(grants.map(RelayWire.Grant.init), deleted: deleted)
        } catch {
            throw RelayPending(url: url, queued: ids.count, revocations: grants.filter { $0.revokedAt != nil }.map(\.id), reason: error)
        }
        // The relay's answer must show every change: a revocation held, the version current.
        let held = Dictionary(statuses.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        let missing = grants.filter { grant in
            guard let status = held[grant.id], status.rejected == nil else { return true }
            return (grant.revokedAt != nil && !status.revoked) || status.version < Int64(grant.version)
        }
        try vault.relay.dequeue(grants.filter { grant in !missing.contains { $0.id == grant.id } }, deleted: deleted)
        guard missing.isEmpty else {
            let first = missing[0]
            let reason = held[first.id]?.rejected.map { RelayClientError.printable($0) } ?? "its answer does not show the change"
            throw RelayPending(
                url: url, queued: missing.count, revocations: missing.filter { $0.revokedAt != nil }.map(\.id),
                reason: RelayClientError.malformed("the relay did not take grant \(first.id): \(reason)"))
        }
    }

    /// Flushes every vault this process unlocked (the end of every command). When the relay
    /// cannot be reached, a command that queued changes of its own fails (exit 6); one that
    /// only found older changes queued says so on stderr and succeeds.
    static func flushUnlocked() async throws {
        let vaults = unlocked.withLock { vaults in
            defer { vaults.removeAll() }
            return vaults
        }
        for (vault, before) in vaults {
            do {
                try await flush(vault)
            } catch let pending as RelayPending {
                let now = Set((try? vault.relay.queued()) ?? [])
                guard now.isSubset(of: before) else { throw pending }
                Terminal.note("vrm: note: \(pending.description)")
            }
        }
    }

    /// `vrm relay sync`: pushes the queue, reconciles every grant with what the relay holds,
    /// then pulls the relay's history into the vault page by page, acknowledging each.
    /// Returns how many grants and other changes were pushed (queued or found behind) and how
    /// many entries were pulled.
    static func sync(_ vault: Vault, state: RelayLinkState) async throws -> (pushed: Int, others: Int, pulled: Int) {
        let client = try RelayPush.client(for: vault, state: state)
        let queued = try await RelayPush.flush(vault)
        // Reconcile: whatever the queue says, the relay must hold every grant as the vault does.
        let held = Dictionary(try await client.grantStatuses().map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        let local = try vault.relay.grantStates(ids: try vault.relay.grantIDs()).grants
        let behind = local.filter { grant in
            guard let status = held[grant.id] else { return true }
            return (grant.revokedAt != nil && !status.revoked) || status.version < Int64(grant.version)
        }.map(\.id)
        let localIDs = Set(local.map(\.id))
        let extra = held.keys.filter { !localIDs.contains($0) }
        try vault.relay.queue(behind + extra)
        let reconciled = try await RelayPush.flush(vault)
        var pulled = 0
        while true {
            let after = try vault.relay.state()?.pulledSeq ?? 0
            let page = try await client.history(after: after)
            // A relay that says "more" must send something new, or the loop would never end.
            guard !page.more || page.entries.contains(where: { $0.seq > after }) else {
                throw RelayClientError.malformed("the relay says more history follows entry \(after) but sends none")
            }
            let entries = try page.entries.map { entry -> AuditRecord in
                guard let body = Base64URL.decode(entry.body), let hash = Base64URL.decode(entry.hash) else {
                    throw RelayClientError.malformed("history entry \(entry.seq)")
                }
                return AuditRecord(seq: entry.seq, atMillis: entry.at, event: entry.event, writerID: entry.writer, body: body, hash: hash)
            }
            let writers = Dictionary(page.writers.compactMap { w in Base64URL.decode(w.publicKey).map { (w.id, $0) } }, uniquingKeysWith: { $1 })
            let counts = Dictionary(page.grants.map { ($0.id, $0.useCount) }, uniquingKeysWith: { max($0, $1) })
            let tip = page.more ? (entries.last?.seq ?? page.tip) : page.tip
            pulled += try vault.relay.applyPull(entries: entries, writers: writers, useCounts: counts, relayTip: tip)
            if let last = entries.last { try await client.acknowledge(through: last.seq) }
            if !page.more { break }
        }
        return ((queued?.pushed ?? 0) + (reconciled?.pushed ?? 0), (queued?.others ?? 0) + (reconciled?.others ?? 0), pulled)
    }

    static func client(for vault: Vault, state: RelayLinkState) throws -> RelayClient {
        RelayClient(baseURL: try RelayClient.parseURL(state.url), vaultID: vault.database.header.vaultID, signing: vault.keys.signing)
    }
}

/// Changes saved in the vault that the relay does not have yet (exit 6).
struct RelayPending: Error, CustomStringConvertible {
    let url: String
    let queued: Int
    let revocations: [String]
    let reason: any Error
    /// What is pending, when it is not grant changes.
    var what: String?

    var description: String {
        let retry = "The change is queued in the vault; `vrm relay sync` (or the next command) retries."
        if let what {
            return "the relay at \(url) does not have \(what) yet (\(reason)); this vault keeps it. \(retry)"
        }
        if !revocations.isEmpty {
            return "grant \(revocations.joined(separator: ", ")) is revoked in this vault, but the relay at \(url) does not know yet "
                + "(\(reason)): it may serve the grant until it does. \(retry)"
        }
        return "\(queued) grant change(s) are saved in this vault but not yet at the relay at \(url) (\(reason)). \(retry)"
    }
}

extension RelayWire.Grant {
    init(_ state: RelayGrantState) {
        self.init(
            id: state.id, selector: Base64URL.encode(state.selector), secretHash: Base64URL.encode(state.secretHash),
            binding: state.binding.rawValue, expiresAt: state.expiresAt, maxUses: state.maxUses.map(Int64.init),
            useCount: Int64(state.useCount), revokedAt: state.revokedAt, version: Int64(state.version),
            share: state.share.map(Base64URL.encode), bindsPolicy: true, notifyURL: state.notifyURL)
    }
}
