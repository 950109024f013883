import Foundation
import VaultCrypto

/// Where the vault is linked, and how far its history was pulled from there: sealed under the
/// vault key in `relay_link` (the relay's address is not left in the clear).
public struct RelayLinkState: Codable, Sendable, Equatable {
    /// The relay's base URL.
    public var url: String
    public var linkedAt: Int64
    /// The newest relay history entry pulled into the local history (0: none yet) and its hash
    /// on the relay's chain, which the next pull must continue.
    public var pulledSeq: Int64
    public var pulledHash: [UInt8]
    public var lastSyncAt: Int64?
    /// A key rotation replaced the vault's X25519 key and the relay has not taken the new one yet.
    public var boxKeyPending: Bool?

    enum CodingKeys: String, CodingKey {
        case url
        case linkedAt = "linked_at", pulledSeq = "pulled_seq", pulledHash = "pulled_hash", lastSyncAt = "last_sync_at"
        case boxKeyPending = "box_key_pending"
    }
}

/// One grant's server-side state, read through the vault key (`ConsentEngine.open`): exactly
/// what `vrm serve` holds of it, which is what a relay may hold.
public struct RelayGrantState: Sendable, Equatable {
    public var id: String
    public var selector: [UInt8]
    public var secretHash: [UInt8]
    public var binding: GrantBinding
    public var expiresAt: Int64?
    public var maxUses: Int?
    public var useCount: Int
    public var revokedAt: Int64?
    public var version: Int
    /// The sealed share, only while the grant is active.
    public var share: [UInt8]?
    /// The vendor's webhook (from the sealed metadata): the relay announces new versions to it.
    public var notifyURL: String? = nil
}

/// The vault's side of a relay link (`Specs/relay.md`): the link state, the queue of grants the
/// relay has not acknowledged, the grants' server-side state to push, and the pull of the
/// relay's history into the local chain.
public struct RelayLink: Sendable {
    let context: VaultContext

    static let table = "relay_link"

    /// The link; nil when the vault is not linked.
    public func state() throws -> RelayLinkState? {
        try context.read { try state(in: $0) }
    }

    func state(in transaction: StorageTransaction) throws -> RelayLinkState? {
        guard let sealed = try transaction.relay.sealedLink() else { return nil }
        return try context.keys.openJSON(RelayLinkState.self, sealed, table: Self.table, id: "1", field: "state")
    }

    private func save(_ state: RelayLinkState, in transaction: StorageTransaction) throws {
        try transaction.relay.setLink(try context.keys.sealJSON(state, table: Self.table, id: "1", field: "state"))
    }

    /// Records the link (after the relay enrolled the vault) and queues every grant.
    public func link(url: String) throws {
        try context.write { transaction in
            guard try state(in: transaction) == nil else { throw VaultError.conflict("the vault is linked to a relay already") }
            try save(
                RelayLinkState(url: url, linkedAt: context.nowMillis, pulledSeq: 0, pulledHash: AuditChain.genesis, lastSyncAt: nil),
                in: transaction)
            try transaction.relay.queueAll()
        }
    }

    /// The relay has the vault's current X25519 key (after a key rotation).
    public func boxKeyDelivered() throws {
        try context.write { transaction in
            guard var state = try state(in: transaction) else { return }
            state.boxKeyPending = nil
            try save(state, in: transaction)
        }
    }

    /// Forgets the link and its queue (after the relay deleted the vault, or with `--local`).
    public func unlink() throws {
        try context.write { transaction in try transaction.relay.removeLink() }
    }

    /// The grants queued for the relay.
    public func queued() throws -> [String] {
        try context.read { try $0.relay.queued() }
    }

    /// Queues grants (a reconciliation found the relay behind).
    public func queue(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try context.write { try $0.relay.queue(ids) }
    }

    /// Takes grants off the queue once the relay acknowledged them as `pushed` (and `deleted`):
    /// one that changed since it was read for the push stays queued.
    public func dequeue(_ pushed: [RelayGrantState], deleted: [String] = []) throws {
        guard !pushed.isEmpty || !deleted.isEmpty else { return }
        try context.write { transaction in
            for grant in pushed { try transaction.relay.dequeue(id: grant.id, version: grant.version, revoked: grant.revokedAt != nil) }
            for id in deleted { try transaction.relay.dequeueDeleted(id: id) }
        }
    }

    /// The server-side state of the grants with these ids, checked against their sealed
    /// policy and status; an id with no grant is one to delete at the relay.
    public func grantStates(ids: [String]) throws -> (grants: [RelayGrantState], deleted: [String]) {
        let keys = context.keys
        let now = context.nowMillis
        return try context.read { transaction in
            try context.checkHistory(in: transaction)
            var grants: [RelayGrantState] = []
            var deleted: [String] = []
            for id in ids {
                guard let record = try transaction.grants.record(id: id) else {
                    deleted.append(id)
                    continue
                }
                let opened = try ConsentEngine.open(record, keys: keys)
                var share: [UInt8]?
                if opened.state(nowMillis: now) == .active, let stored = try transaction.grants.share(grantID: id),
                    stored.version == opened.status.version
                {
                    share = stored.body
                }
                grants.append(
                    RelayGrantState(
                        id: id, selector: record.selector, secretHash: record.secretHash, binding: opened.policy.binding,
                        expiresAt: opened.policy.expiresAt, maxUses: opened.policy.maxUses, useCount: opened.useCount,
                        revokedAt: opened.status.revokedAt, version: opened.status.version, share: share,
                        notifyURL: opened.metadata.notifyURL))
            }
            return (grants, deleted)
        }
    }

    /// Every grant id in the vault.
    public func grantIDs() throws -> [String] {
        try context.read { transaction in try transaction.grants.all { $0.id } }
    }

    /// Appends entries pulled from the relay (each with its hash on the relay's chain) to the
    /// local history, in order, after checking that they continue the relay's chain from the
    /// last pull (none missing, none changed),
    /// records the writers that sealed them and raises the grants' use counts to the relay's.
    /// Entries at or before the last pull are skipped (an acknowledgement that did not arrive).
    /// Returns how many were appended.
    @discardableResult
    public func applyPull(
        entries: [AuditRecord], writers: [String: [UInt8]], useCounts: [String: Int64], relayTip: Int64
    ) throws -> Int {
        try context.write { transaction in
            guard var state = try state(in: transaction) else { throw VaultError.conflict("the vault is not linked to a relay") }
            let fresh = entries.filter { $0.seq > state.pulledSeq }
            var previous = state.pulledHash
            var expected = state.pulledSeq + 1
            for entry in fresh {
                guard entry.seq == expected else {
                    throw VaultError.historyDamaged(
                        firstBad: expected, reason: "the relay's history lacks entries \(expected)–\(entry.seq - 1) (never pulled)")
                }
                guard let event = AuditEvent(rawValue: entry.event), !event.writtenByCLI else {
                    throw VaultError.historyDamaged(firstBad: entry.seq, reason: "the relay sent an entry only the vault may write")
                }
                let hash = AuditChain.entryHash(
                    previous: previous, seq: entry.seq, atMillis: entry.atMillis, event: entry.event, writerID: entry.writerID,
                    body: entry.body)
                guard constantTimeEquals(hash, entry.hash) else {
                    throw VaultError.historyDamaged(firstBad: entry.seq, reason: "the relay's entry does not continue its chain")
                }
                previous = hash
                expected += 1
            }
            guard fresh.last?.seq ?? state.pulledSeq >= relayTip else {
                throw VaultError.historyDamaged(
                    firstBad: expected, reason: "the relay's history ends at \(relayTip) but sent nothing after \(expected - 1)")
            }
            let now = context.nowMillis
            let known = Set(try transaction.audit.writers().map(\.id))
            for writer in Set(fresh.map(\.writerID)) where !known.contains(writer) {
                guard let key = writers[writer], key.count == 32 else {
                    throw VaultError.historyDamaged(
                        firstBad: expected, reason: "the relay did not send the key of writer \(VaultError.printableID(writer))")
                }
                try transaction.audit.registerAuditWriter(id: writer, publicKey: key, atMillis: now)
            }
            // Every body must open with the vault key and be an entry body: a relay's chain needs
            // no secret to compute, so this is what shows an entry was sealed to this vault.
            let boxes = try WriterBoxes(keys: context.keys, in: transaction)
            for entry in fresh {
                guard var plain = boxes.open(writerID: entry.writerID, entry.body) else {
                    throw VaultError.historyDamaged(firstBad: entry.seq, reason: "the relay's entry \(entry.seq) does not open with the vault key")
                }
                defer { Wipe.bytes(&plain) }
                guard (try? VaultKeys.decodeRecord(AuditBody.self, plain)) != nil else {
                    throw VaultError.historyDamaged(firstBad: entry.seq, reason: "the relay's entry \(entry.seq) is not an entry body")
                }
            }
            var tip = try transaction.audit.lastAuditEntry() ?? AuditWriter.Tip(seq: 0, hash: AuditChain.genesis)
            for entry in fresh {
                let seq = tip.seq + 1
                let hash = AuditChain.entryHash(
                    previous: tip.hash, seq: seq, atMillis: entry.atMillis, event: entry.event, writerID: entry.writerID, body: entry.body)
                try transaction.audit.appendAuditEntry(
                    AuditRecord(seq: seq, atMillis: entry.atMillis, event: entry.event, writerID: entry.writerID, body: entry.body, hash: hash))
                tip = AuditWriter.Tip(seq: seq, hash: hash)
            }
            for (id, count) in useCounts where count > 0 { try transaction.grants.raiseUseCount(id: id, to: count) }
            if let last = fresh.last {
                state.pulledSeq = last.seq
                state.pulledHash = last.hash
            }
            state.lastSyncAt = now
            try save(state, in: transaction)
            return fresh.count
        }
    }
}

extension Vault {
    /// The vault's link to a relay.
    public var relay: RelayLink { RelayLink(context: context) }
}

/// A request link as the relay gets it: the code's selector and hash, and the expiry.
public struct RelayLinkPush: Sendable, Equatable {
    public let selector: [UInt8]
    public let codeHash: [UInt8]
    public let expiresAt: Int64
}

/// A decision on an access request as the relay gets it (from the CLI's sealed decision).
public struct RelayDecisionPush: Sendable, Equatable {
    public let id: String
    public let status: String
    public let decidedAt: Int64
    public let grantID: String?
    public let endpoint: String?
    public let tokenSealed: [UInt8]?
}

/// A request the relay took, as pulled into the vault.
public struct PulledRequest: Sendable {
    public let id: String
    public let linkSelector: [UInt8]
    public let sealed: [UInt8]
    public let proof: [UInt8]
    public let receivedAt: Int64

    public init(id: String, linkSelector: [UInt8], sealed: [UInt8], proof: [UInt8], receivedAt: Int64) {
        self.id = id
        self.linkSelector = linkSelector
        self.sealed = sealed
        self.proof = proof
        self.receivedAt = receivedAt
    }
}

extension RelayLink {
    /// Splits queued ids into grants, request links and request decisions.
    public static func partition(_ ids: [String]) -> (grants: [String], links: [String], requests: [String], notify: [String]) {
        (
            ids.filter { !$0.hasPrefix(RelayQueueID.linkPrefix) && !$0.hasPrefix("rq_") && $0 != RelayQueueID.notify },
            ids.filter { $0.hasPrefix(RelayQueueID.linkPrefix) }, ids.filter { $0.hasPrefix("rq_") }, ids.filter { $0 == RelayQueueID.notify }
        )
    }

    /// The notification settings to push: the key pair, its certificate and the customer's
    /// channel; nil when the vault has none.
    public func notifySettings() throws -> RelayNotifySettings? {
        try context.read { transaction in
            // The settings are in the records digest: a host that wrote the file cannot have
            // the relay send the customer's activity elsewhere.
            try context.checkHistory(in: transaction)
            guard let row = try transaction.notify.settings() else { return nil }
            return RelayNotifySettings(
                keyID: row.keyID, publicKey: row.publicKey, secretKey: row.secretKey, certificate: row.certificate,
                channel: row.customerKind.flatMap(CustomerChannel.Kind.init(rawValue:)).flatMap { kind in
                    row.customerURL.map { CustomerChannel(kind: kind, url: $0, interval: row.customerInterval ?? CustomerChannel.defaultInterval) }
                })
        }
    }

    /// The queued links and decisions to push (an id whose row is gone is left out). Links are in
    /// the records digest; a decision's endpoint comes from its sealed link and its token from
    /// the CLI's sealed decision, never from the row's plaintext columns (the endpoint writes
    /// those, and a host could point a vendor at its own server for the token).
    public func requestPushes(links linkIDs: [String], requests requestIDs: [String]) throws -> (
        links: [RelayLinkPush], decisions: [RelayDecisionPush]
    ) {
        let keys = context.keys
        return try context.read { transaction in
            try context.checkHistory(in: transaction)
            var links: [RelayLinkPush] = []
            for id in linkIDs {
                guard let selector = Hex.decode(String(id.dropFirst(RelayQueueID.linkPrefix.count))),
                    let row = try transaction.requests.link(selector: selector)
                else { continue }
                links.append(RelayLinkPush(selector: row.selector, codeHash: row.codeHash, expiresAt: row.expiresAt))
            }
            var decisions: [RelayDecisionPush] = []
            for id in requestIDs {
                guard let row = try transaction.requests.request(id: id), let box = row.decisionSealed else { continue }
                let decision = try keys.openJSON(RequestDecision.self, box, table: "access_requests", id: row.id, field: "decision")
                var endpoint: String?
                var tokenSealed: [UInt8]?
                if decision.status == "approved" {
                    guard let linkRow = try transaction.requests.link(selector: row.linkSelector),
                        let sealed = decision.tokenSealed.flatMap(Base64URL.decode)
                    else { throw VaultError.tampered(table: "access_requests", id: row.id) }
                    let link = try keys.openJSON(
                        RequestLinkSecret.self, linkRow.sealed, table: "request_links", id: Hex.encode(linkRow.selector), field: "sealed")
                    // The link records the answer too: a decision moved onto another request is not pushed.
                    guard link.answered == row.id, link.answer == "approved" else {
                        throw VaultError.mismatch(table: "access_requests", id: row.id, column: "column decision_sealed (its link records another answer)")
                    }
                    endpoint = link.endpoint
                    tokenSealed = sealed
                }
                decisions.append(
                    RelayDecisionPush(
                        id: row.id, status: decision.status, decidedAt: decision.decidedAt, grantID: decision.grantID, endpoint: endpoint,
                        tokenSealed: tokenSealed))
            }
            return (links, decisions)
        }
    }

    /// Takes pushed links and decisions (or ids with nothing left to push) off the queue.
    public func dequeue(ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try context.write { transaction in try transaction.relay.dequeue(ids: ids) }
    }

    /// Stores requests pulled from the relay (ones the vault has are left as they are).
    public func storePulled(_ requests: [PulledRequest]) throws {
        guard !requests.isEmpty else { return }
        try context.write { transaction in
            for r in requests {
                guard RequestID.isWellFormed(r.id), r.linkSelector.count == RequestCode.selectorBytes, r.proof.count == 32,
                    r.sealed.count <= RequestLimits.maxSealedBytes
                else { continue }
                try transaction.requests.insertPulled(
                    AccessRequestRow(
                        id: r.id, linkSelector: r.linkSelector, sealed: r.sealed, proof: r.proof, receivedAt: r.receivedAt, status: "pending",
                        decidedAt: nil, grantID: nil, endpoint: nil, tokenSealed: nil, decisionSealed: nil))
            }
        }
    }
}

/// What a linked vault gives the relay to send notifications with (`Specs/requests.md` §5–6).
public struct RelayNotifySettings: Sendable {
    public let keyID: String
    public let publicKey: [UInt8]
    /// The notification key's secret: the relay signs events with it.
    public let secretKey: [UInt8]
    public let certificate: String
    public let channel: CustomerChannel?
}
