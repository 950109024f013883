public import Foundation
public import GRDB
public import VaultCrypto

/// Profile keys: dotted names of `[a-z0-9._-]`, e.g. `email`, `address.shipping`, `size.shoe`.
public enum ProfileKey {
    public static let maxLength = 64
    public static let maxValueBytes = 64 * 1024
    /// Well-known keys, shown in help text; any key of the allowed alphabet works.
    public static let wellKnown = ["name", "email", "phone", "address.shipping", "address.billing", "birthday", "size.shoe", "preference.contact"]

    /// Throws `invalidInput` for keys outside the alphabet or shape.
    public static func validate(_ key: String) throws {
        let allowed = key.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x5F || c == 0x2D
        }
        guard !key.isEmpty, key.utf8.count <= maxLength, allowed,
              !key.hasPrefix("."), !key.hasSuffix("."), !key.contains("..")
        else {
            throw VaultError.invalidInput(
                "invalid profile key \"\(key.prefix(maxLength))\": use 1-\(maxLength) characters of a-z 0-9 . _ - (e.g. email, address.shipping)")
        }
    }
}

struct ProfileEntryPayload: Codable {
    var key: String
    var value: String
}

extension Vault {
    /// Sets a profile field and re-materialises every active grant that covers it, in one
    /// transaction. Returns how many grants were re-materialised.
    @discardableResult
    public func setProfile(_ key: String, value: String) throws -> Int {
        try ProfileKey.validate(key)
        guard value.utf8.count <= ProfileKey.maxValueBytes else {
            throw VaultError.invalidInput("profile value is longer than \(ProfileKey.maxValueBytes) bytes")
        }
        let index = keys.blindIndex(table: "profile", value: key)
        return try transaction { db in
            let existing = try String.fetchOne(db, sql: "SELECT id FROM profile WHERE key_index = ?", arguments: [Data(index)])
            let id = existing ?? newRowID()
            let sealed = try sealJSON(ProfileEntryPayload(key: key, value: value), table: "profile", id: id)
            try db.execute(
                sql: """
                    INSERT INTO profile (id, key_index, sealed, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                    """,
                arguments: [id, Data(index), Data(sealed), nowMillis])
            return try rematerialise(affectedBy: .profile(key: key), db)
        }
    }

    /// The value of one profile field, or nil.
    public func profileValue(_ key: String) throws -> String? {
        try ProfileKey.validate(key)
        let index = keys.blindIndex(table: "profile", value: key)
        return try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, sealed FROM profile WHERE key_index = ?", arguments: [Data(index)]) else {
                return nil
            }
            return try decodeProfileRow(row).value
        }
    }

    /// Removes a profile field; throws `notFound` when it is not set.
    public func unsetProfile(_ key: String) throws {
        try ProfileKey.validate(key)
        let index = keys.blindIndex(table: "profile", value: key)
        try transaction { db in
            try db.execute(sql: "DELETE FROM profile WHERE key_index = ?", arguments: [Data(index)])
            guard db.changesCount > 0 else { throw VaultError.notFound(kind: "profile key", id: key) }
            try rematerialise(affectedBy: .profile(key: key), db)
        }
    }

    /// All profile fields, sorted by key.
    public func profile() throws -> [(key: String, value: String)] {
        try database.read { db in try profileEntries(db) }
    }

    func profileEntries(_ db: Database) throws -> [(key: String, value: String)] {
        try Row.fetchAll(db, sql: "SELECT id, sealed FROM profile")
            .map { try decodeProfileRow($0) }
            .map { (key: $0.key, value: $0.value) }
            .sorted { $0.key < $1.key }
    }

    private func decodeProfileRow(_ row: Row) throws -> ProfileEntryPayload {
        let id: String = row["id"]
        return try openJSON(ProfileEntryPayload.self, row.bytes("sealed"), table: "profile", id: id)
    }

    func newRowID() -> String {
        Hex.encode(VaultCrypto.Random.bytes(16))
    }
}
