import Foundation
import VaultCrypto

/// The customer's profile: named fields, each a sealed row found by a keyed hash of its key.
/// Changing a field re-materialises every active grant that covers it.
public struct ProfileBook: Sendable {
    let context: VaultContext

    /// Sets a profile field and re-materialises every active grant that covers it, in one
    /// transaction. Returns how many grants were re-materialised.
    @discardableResult
    public func set(_ key: String, value: String) throws -> Int {
        try ProfileKey.validate(key)
        guard value.utf8.count <= ProfileKey.maxValueBytes else {
            throw VaultError.invalidInput("profile value is longer than \(ProfileKey.maxValueBytes) bytes")
        }
        return try context.write { transaction in
            try store(key, value: value, in: transaction)
            return try ConsentEngine(context: context).rematerialise(affectedBy: .profile(key: key), in: transaction)
        }
    }

    /// The value of one profile field, or nil.
    public func value(_ key: String) throws -> String? {
        try ProfileKey.validate(key)
        return try context.read { transaction in
            try transaction.profile.row(keyIndex: keyIndex(key)).map { try decode($0, expecting: key) }?.value
        }
    }

    /// Removes a profile field; throws `notFound` when it is not set.
    public func unset(_ key: String) throws {
        try ProfileKey.validate(key)
        try context.write { transaction in
            let index = keyIndex(key)
            guard let row = try transaction.profile.row(keyIndex: index) else { throw VaultError.notFound(kind: "profile key", id: key) }
            _ = try decode(row, expecting: key)
            _ = try transaction.profile.delete(keyIndex: index)
            try ConsentEngine(context: context).rematerialise(affectedBy: .profile(key: key), in: transaction)
        }
    }

    /// All profile fields, sorted by key.
    public func all() throws -> [(key: String, value: String)] {
        try context.read { transaction in try entries(in: transaction) }
    }

    /// The profile scopes among `scopes` that share no field now (a grant on them shares
    /// nothing until the customer sets one).
    public func unmatched(_ scopes: [Scope]) throws -> [Scope] {
        let keys = try all().map(\.key)
        return scopes.filter { scope in
            switch scope {
            case .profileField, .profilePrefix: !keys.contains(where: scope.covers(profileKey:))
            default: false
            }
        }
    }

    /// All profile fields, sorted by key, inside the caller's transaction.
    /// Two rows holding the same key mean a row was copied or its index swapped: refused.
    func entries(in transaction: StorageTransaction) throws -> [(key: String, value: String)] {
        var seen: Set<String> = []
        return try transaction.profile.all()
            .map { row in
                let entry = try decode(row)
                guard seen.insert(entry.key).inserted else {
                    throw VaultError.mismatch(table: "profile", id: row.id, column: "column key_index")
                }
                return (key: entry.key, value: entry.value)
            }
            .sorted { $0.key < $1.key }
    }

    /// Stores a field (new or replaced) in the caller's transaction, without re-materialising.
    func store(_ key: String, value: String, in transaction: StorageTransaction) throws {
        let index = keyIndex(key)
        let id = try transaction.profile.id(keyIndex: index) ?? context.newRowID()
        // A row found by the index must hold this key: one whose index was swapped in is not
        // overwritten. (A row whose sealed value no longer opens can be set anew.)
        if let row = try? transaction.profile.row(keyIndex: index), let existing = try? decode(row), existing.key != key {
            throw VaultError.mismatch(table: "profile", id: row.id, column: "column key_index")
        }
        let sealed = try context.keys.sealJSON(ProfileEntryPayload(key: key, value: value), table: "profile", id: id)
        try transaction.profile.upsert(id: id, keyIndex: index, sealed: sealed, updatedAt: context.nowMillis)
    }

    func keyIndex(_ key: String) -> [UInt8] {
        context.keys.blindIndex(table: "profile", value: key)
    }

    private func decode(_ row: SealedRow) throws -> ProfileEntryPayload {
        try context.keys.openJSON(ProfileEntryPayload.self, row.sealed, table: "profile", id: row.id)
    }

    /// The row found by `key`'s index, which must hold `key`.
    private func decode(_ row: SealedRow, expecting key: String) throws -> ProfileEntryPayload {
        let entry = try decode(row)
        guard entry.key == key else { throw VaultError.mismatch(table: "profile", id: row.id, column: "column key_index") }
        return entry
    }
}
