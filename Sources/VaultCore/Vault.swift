public import Foundation
public import GRDB
public import VaultCrypto

/// An unlocked vault: the database plus the key ring. All customer-side operations hang off it.
public final class Vault: Sendable {
    public let database: VaultDatabase
    public let keys: VaultKeys
    let clock: VaultClock
    let audit: AuditWriter
    /// Where the CLI keeps its out-of-file audit checkpoint; nil to keep none (tests, demo).
    let checkpoints: AuditCheckpointStore?

    init(database: VaultDatabase, keys: VaultKeys, clock: @escaping VaultClock, checkpoints: AuditCheckpointStore?) throws {
        self.database = database
        self.keys = keys
        self.clock = clock
        self.checkpoints = checkpoints
        self.audit = try AuditWriter(vaultBoxPublicKey: database.header.boxPublicKey)
    }

    var now: Date { clock() }
    var nowMillis: Int64 { Millis.from(clock()) }

    /// Creates a new vault file at `path`; refuses if anything is there.
    public static func create(path: String, passphrase: SecretKey, kdf: KDFParameters = .interactive,
                              clock: @escaping VaultClock = { Date() }, checkpoints: AuditCheckpointStore? = nil) throws -> Vault {
        try checkPassphrase(passphrase)
        try kdf.validate()
        let vaultID = Random.bytes(16)
        let master = try SecretKey.random(count: 32)
        let salt = Random.bytes(PasswordHash.saltBytes)
        let kek = try PasswordHash.deriveKey(passphrase: passphrase, salt: salt, parameters: kdf)
        let identity = try Subkeys.derive(from: master, id: VaultKeys.SubkeyID.identity.rawValue)
        let box = try BoxKeyPair.generate()
        let signing = try SigningKeyPair.generate()
        func sealIdentity(_ secret: SecretKey, _ field: String) throws -> [UInt8] {
            try AEAD.seal(secret: secret, key: identity, associatedData: VaultKeys.associatedData(vaultID: vaultID, table: "vault_header", id: "1", field: field))
        }
        var header = VaultHeader(
            formatVersion: VaultHeader.currentFormat, vaultID: vaultID, kdf: kdf, salt: salt,
            wrappedKey: try AEAD.seal(secret: master, key: kek, associatedData: masterKeyAD(vaultID)),
            boxPublicKey: box.publicKey, signPublicKey: signing.publicKey,
            boxSecretSealed: try sealIdentity(box.secretKey, "box_secret"),
            signSecretSealed: try sealIdentity(signing.secretKey, "sign_secret"),
            createdAtMillis: Millis.from(clock()), checksum: [])
        header.checksum = header.computeChecksum()
        let database = try VaultDatabase.create(path: path, header: header)
        return try Vault(database: database, keys: VaultKeys(master: master, header: header), clock: clock, checkpoints: checkpoints)
    }

    /// Opens and unlocks the vault at `path`.
    public static func unlock(path: String, passphrase: SecretKey, clock: @escaping VaultClock = { Date() },
                              checkpoints: AuditCheckpointStore? = nil) throws -> Vault {
        try unlock(database: VaultDatabase.open(path: path), passphrase: passphrase, clock: clock, checkpoints: checkpoints)
    }

    /// Unlocks an opened database. A wrong passphrase is told apart from corruption by the header checksum.
    public static func unlock(database: VaultDatabase, passphrase: SecretKey, clock: @escaping VaultClock = { Date() },
                              checkpoints: AuditCheckpointStore? = nil) throws -> Vault {
        let master = try unwrapMaster(header: database.header, passphrase: passphrase)
        return try Vault(database: database, keys: VaultKeys(master: master, header: database.header), clock: clock,
                         checkpoints: checkpoints)
    }

    static func unwrapMaster(header: VaultHeader, passphrase: SecretKey) throws -> SecretKey {
        guard header.isIntact else { throw VaultError.corrupt("header checksum mismatch") }
        do {
            try header.kdf.validate()
        } catch {
            throw VaultError.corrupt("key-derivation parameters in the header are out of range")
        }
        let kek = try PasswordHash.deriveKey(passphrase: passphrase, salt: header.salt, parameters: header.kdf)
        do {
            return try AEAD.openSecret(header.wrappedKey, key: kek, associatedData: masterKeyAD(header.vaultID))
        } catch {
            throw VaultError.wrongPassphrase
        }
    }

    /// Re-wraps the master key under a new passphrase; no record is re-encrypted.
    public func changePassphrase(current: SecretKey, new: SecretKey) throws {
        try Self.checkPassphrase(new)
        let fresh = try database.read { db in try VaultDatabase.readHeader(db) }
        let master = try Self.unwrapMaster(header: fresh, passphrase: current)
        var header = fresh
        header.salt = Random.bytes(PasswordHash.saltBytes)
        let kek = try PasswordHash.deriveKey(passphrase: new, salt: header.salt, parameters: header.kdf)
        header.wrappedKey = try AEAD.seal(secret: master, key: kek, associatedData: Self.masterKeyAD(header.vaultID))
        header.checksum = header.computeChecksum()
        try database.updateWrapping(header)
        database.checkpoint()
    }

    static func masterKeyAD(_ vaultID: [UInt8]) -> [UInt8] {
        VaultKeys.associatedData(vaultID: vaultID, table: "vault_header", id: "1", field: "master_key")
    }

    static func checkPassphrase(_ passphrase: SecretKey) throws {
        let blank = passphrase.withUnsafeBytes { $0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D } }
        if passphrase.count == 0 || blank { throw VaultError.invalidInput("the passphrase is empty") }
    }

    // MARK: - JSON helpers for sealed payloads

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    func sealJSON<T: Encodable>(_ value: T, table: String, id: String, field: String = "record") throws -> [UInt8] {
        var plain = Array(try Self.encoder.encode(value))
        defer { Wipe.bytes(&plain) }
        return try keys.seal(plain, table: table, id: id, field: field)
    }

    func openJSON<T: Decodable>(_ type: T.Type, _ box: [UInt8], table: String, id: String, field: String = "record") throws -> T {
        var plain = try keys.open(box, table: table, id: id, field: field)
        defer { Wipe.bytes(&plain) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(plain))
        } catch {
            throw VaultError.corrupt("record \(table)/\(id) has an unreadable payload")
        }
    }

    /// Seals a record in the binary encoding.
    func sealRecord<T: BinaryRecord>(_ value: T, table: String, id: String, field: String = "record") throws -> [UInt8] {
        var plain = value.encodedRecord
        defer { Wipe.bytes(&plain) }
        return try keys.seal(plain, table: table, id: id, field: field)
    }

    /// Opens a record sealed in either encoding (binary tag `0x01`, else JSON).
    func openRecord<T: BinaryRecord & Decodable>(_ type: T.Type, _ box: [UInt8], table: String, id: String, field: String = "record") throws -> T {
        var plain = try keys.open(box, table: table, id: id, field: field)
        defer { Wipe.bytes(&plain) }
        do {
            return try Self.decodeRecord(T.self, plain)
        } catch {
            throw VaultError.corrupt("record \(table)/\(id) has an unreadable payload")
        }
    }

    static func decodeRecord<T: BinaryRecord & Decodable>(_ type: T.Type, _ plain: [UInt8]) throws -> T {
        if plain.first == binaryRecordTag {
            var reader = ByteReader(plain)
            return try T(from: &reader)
        }
        return try JSONDecoder().decode(T.self, from: Data(plain))
    }
}

extension Row {
    /// A BLOB column as bytes.
    func bytes(_ column: String) -> [UInt8] {
        (self[column] as Data?).map { Array($0) } ?? []
    }
}
