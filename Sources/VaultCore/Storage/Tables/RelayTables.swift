import Foundation
import GRDB

/// The relay link (`relay_link`: one sealed row) and the grants queued for the relay
/// (`relay_outbox`, filled by `GrantsTable` while a link exists).
struct RelayTable {
    let db: Database

    /// The sealed link state; nil when the vault is not linked.
    func sealedLink() throws -> [UInt8]? {
        let statement = try RawStatement(db, "SELECT sealed FROM relay_link WHERE id = 1")
        defer { statement.reset() }
        return try statement.step() ? try statement.blob(0, "sealed", of: "relay_link", row: "1") : nil
    }

    func setLink(_ sealed: [UInt8]) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO relay_link (id, sealed) VALUES (1, ?)", arguments: [Data(sealed)])
    }

    /// Removes the link and the queue.
    func removeLink() throws {
        try db.execute(sql: "DELETE FROM relay_link")
        try db.execute(sql: "DELETE FROM relay_outbox")
    }

    /// Whether a link row exists (the server checks this without the key).
    func isLinked() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM relay_link)") ?? false
    }

    /// The queued grant ids, in order.
    func queued() throws -> [String] {
        try String.fetchAll(db, sql: "SELECT grant_id FROM relay_outbox ORDER BY grant_id")
    }

    /// Queues every grant of the vault.
    func queueAll() throws {
        try db.execute(sql: "INSERT OR IGNORE INTO relay_outbox (grant_id) SELECT id FROM grants")
        try db.execute(
            sql: "INSERT OR IGNORE INTO relay_outbox (grant_id) SELECT ? WHERE EXISTS (SELECT 1 FROM notify_settings)", arguments: [RelayQueueID.notify])
    }

    func queue(_ ids: [String]) throws {
        for id in ids { try db.execute(sql: "INSERT OR IGNORE INTO relay_outbox (grant_id) VALUES (?)", arguments: [id]) }
    }

    /// Takes a grant off the queue only if it is still as pushed (that share version, that
    /// revocation): a change another command made meanwhile stays queued.
    func dequeue(id: String, version: Int, revoked: Bool) throws {
        try db.execute(
            sql: """
                DELETE FROM relay_outbox WHERE grant_id = ?1
                AND EXISTS (SELECT 1 FROM grants WHERE id = ?1 AND share_version = ?2 AND (revoked_at IS NOT NULL) = ?3)
                """, arguments: [id, version, revoked])
    }

    /// Takes ids off the queue as they are (request links and decisions).
    func dequeue(ids: [String]) throws {
        for id in ids { try db.execute(sql: "DELETE FROM relay_outbox WHERE grant_id = ?", arguments: [id]) }
    }

    /// Takes a deleted grant off the queue, unless a grant with its id exists again.
    func dequeueDeleted(id: String) throws {
        try db.execute(
            sql: "DELETE FROM relay_outbox WHERE grant_id = ?1 AND NOT EXISTS (SELECT 1 FROM grants WHERE id = ?1)", arguments: [id])
    }
}

extension GrantsTable {
    /// The grant's stored share (version and sealed body); nil when it has none.
    func share(grantID: String) throws -> (version: Int, body: [UInt8])? {
        let statement = try RawStatement(db, "SELECT version, body FROM shares WHERE grant_id = ?1")
        statement.bind(1, grantID)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return (
            Int(truncatingIfNeeded: try statement.integer(0, "version", of: "shares", row: grantID)),
            try statement.blob(1, "body", of: "shares", row: grantID)
        )
    }

    /// Raises a grant's use count to at least `count` (uses counted at the relay).
    func raiseUseCount(id: String, to count: Int64) throws {
        try db.execute(sql: "UPDATE grants SET use_count = MAX(use_count, ?) WHERE id = ?", arguments: [count, id])
    }
}

extension StorageTransaction {
    var relay: RelayTable { RelayTable(db: db) }
}

extension VaultDatabase {
    /// Whether the vault is linked to a relay (`vrm serve` refuses to serve it then: the relay
    /// serves its grants, and two endpoints would each count uses).
    public func isLinkedToRelay() throws -> Bool {
        try read { try $0.relay.isLinked() }
    }
}
