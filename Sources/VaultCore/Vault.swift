public import Foundation
public import VaultCrypto

/// An unlocked vault: a thin facade over the database and the key ring that hands out the
/// features — `profile`, `vendors`, `purchases`, `cases`, `grants`, `audit`, `reports` and
/// `portability` — which talk to each other through their own APIs.
public final class Vault: Sendable {
    let context: VaultContext

    /// The vault file (no passphrase needed to open it; the server works from this alone).
    public var database: VaultDatabase { context.database }
    /// The unlocked key ring.
    public var keys: VaultKeys { context.keys }

    init(database: VaultDatabase, keys: VaultKeys, clock: @escaping VaultClock, checkpoints: AuditCheckpointStore?) throws {
        context = try VaultContext(database: database, keys: keys, clock: clock, checkpoints: checkpoints)
    }

    /// The customer's profile fields.
    public var profile: ProfileBook { ProfileBook(context: context) }
    /// The customer's registry of vendors.
    public var vendors: VendorRegistry { VendorRegistry(context: context) }
    /// Purchases with the customer's annotations.
    public var purchases: PurchaseLedger { PurchaseLedger(context: context) }
    /// Support cases and their timelines.
    public var cases: CaseBook { CaseBook(context: context) }
    /// Share grants: issuing, listing, revoking, receipts.
    public var grants: ConsentEngine { ConsentEngine(context: context) }
    /// Request links and the access requests vendors send with them.
    public var requests: AccessRequests { AccessRequests(context: context) }
    /// The share history, decrypted.
    public var audit: ShareHistory { ShareHistory(context: context) }
    /// Spending, vendor scorecards and exposure.
    public var reports: Reports { Reports(context: context) }
    /// Export and import of every record.
    public var portability: Portability { Portability(context: context) }

    /// Creates a new vault file at `path`; refuses if anything is there.
    public static func create(
        path: String, passphrase: SecretKey, kdf: KDFParameters = .interactive,
        clock: @escaping VaultClock = { Date() }, checkpoints: AuditCheckpointStore? = nil
    ) throws -> Vault {
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
            try AEAD.seal(
                secret: secret, key: identity, associatedData: VaultKeys.associatedData(vaultID: vaultID, table: "vault_header", id: "1", field: field))
        }
        var header = VaultHeader(
            formatVersion: VaultHeader.currentFormat, vaultID: vaultID, kdf: kdf, salt: salt,
            wrappedKey: try AEAD.seal(secret: master, key: kek, associatedData: masterKeyAD(vaultID)),
            boxPublicKey: box.publicKey, signPublicKey: signing.publicKey,
            boxSecretSealed: try sealIdentity(box.secretKey, "box_secret"),
            signSecretSealed: try sealIdentity(signing.secretKey, "sign_secret"),
            createdAtMillis: Millis.from(clock()), checksum: [])
        header.checksum = header.computeChecksum()
        let keys = try VaultKeys(master: master, header: header)
        header.generation = 0
        header.recordsDigest = VaultContext.noRecordsDigest(keys: keys)
        header.mac = keys.headerMAC(header)
        let database = try VaultDatabase.create(path: path, header: header)
        return try Vault(database: database, keys: keys, clock: clock, checkpoints: checkpoints)
    }

    /// Opens and unlocks the vault at `path`.
    public static func unlock(
        path: String, passphrase: SecretKey, clock: @escaping VaultClock = { Date() },
        checkpoints: AuditCheckpointStore? = nil
    ) throws -> Vault {
        try unlock(database: VaultDatabase.open(path: path), passphrase: passphrase, clock: clock, checkpoints: checkpoints)
    }

    /// Unlocks an opened database. A wrong passphrase is told apart from corruption by the
    /// header checksum; once the key is unwrapped, the header must carry its MAC (format 2) —
    /// a format-1 vault is migrated to format 2 first (`FormatMigration`).
    public static func unlock(
        database: VaultDatabase, passphrase: SecretKey, clock: @escaping VaultClock = { Date() },
        checkpoints: AuditCheckpointStore? = nil
    ) throws -> Vault {
        let opened = database.header
        let master = try unwrapMaster(header: opened, passphrase: passphrase)
        return try unlock(database: database, master: master, clock: clock, checkpoints: checkpoints)
    }

    /// Unwraps the master key with the passphrase (the KDF runs), for a session that keeps it
    /// sealed under a key of its own (`vrm unlock`); `unlock(database:master:)` opens with it.
    public static func unwrapMasterKey(database: VaultDatabase, passphrase: SecretKey) throws -> SecretKey {
        try unwrapMaster(header: database.header, passphrase: passphrase)
    }

    /// Unlocks with a master key already unwrapped (a session, which checks first that it was
    /// made for this header's wrapped key). Every check of a passphrase unlock but the KDF.
    public static func unlock(
        database: VaultDatabase, master: SecretKey, clock: @escaping VaultClock = { Date() }, checkpoints: AuditCheckpointStore? = nil
    ) throws -> Vault {
        let opened = database.header
        if opened.formatVersion < VaultHeader.currentFormat {
            try FormatMigration.run(
                database: database, keys: VaultKeys(master: master, header: opened), clock: clock, checkpoints: checkpoints)
        }
        // The header as it is now (migrated, or changed since the open), checked under the key.
        let (header, retired) = try database.read { transaction in (try transaction.header.read(), try transaction.retiredKeys.all()) }
        guard constantTimeEquals(header.wrappedKey, opened.wrappedKey) || opened.formatVersion < VaultHeader.currentFormat else {
            throw VaultError.corrupt("the vault header changed while it was being unlocked; try again")
        }
        let keys = try VaultKeys(master: master, header: header, retired: retired)
        guard keys.headerIsAuthentic(header) else {
            throw VaultError.tampered(table: "vault_header", id: "1")
        }
        // A checkpoint that fails its MAC, or marks this key as replaced, stops every command.
        _ = try checkpoints?.load(keys: keys)
        return try Vault(database: database, keys: keys, clock: clock, checkpoints: checkpoints)
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

    /// Re-wraps the master key under a new passphrase; no record is re-encrypted. An old copy
    /// of the file still opens with the old passphrase — `rotateKey` is the change that cuts it off.
    public func changePassphrase(current: SecretKey, new: SecretKey) throws {
        try Self.checkPassphrase(new)
        try database.write { transaction in
            var header = try transaction.header.read()
            let master = try Self.unwrapMaster(header: header, passphrase: current)
            let keys = try VaultKeys(master: master, header: header)
            guard keys.headerIsAuthentic(header) else {
                throw VaultError.tampered(table: "vault_header", id: "1")
            }
            header.salt = Random.bytes(PasswordHash.saltBytes)
            let kek = try PasswordHash.deriveKey(passphrase: new, salt: header.salt, parameters: header.kdf)
            header.wrappedKey = try AEAD.seal(secret: master, key: kek, associatedData: Self.masterKeyAD(header.vaultID))
            header.checksum = header.computeChecksum()
            header.mac = keys.headerMAC(header)
            try transaction.header.update(header)
        }
        database.checkpoint()
    }

    /// A new master key under a new passphrase: every record, grant and history MAC re-sealed
    /// in one transaction (`KeyRotation`). Neither the old passphrase nor an old copy of the
    /// file opens anything written afterwards. This `Vault` value still holds the old key:
    /// unlock again to go on.
    public func rotateKey(current: SecretKey, new: SecretKey) throws {
        try Self.checkPassphrase(new)
        try KeyRotation.run(database: database, current: current, new: new, clock: context.clock, checkpoints: context.checkpoints)
    }

    static func masterKeyAD(_ vaultID: [UInt8]) -> [UInt8] {
        VaultKeys.associatedData(vaultID: vaultID, table: "vault_header", id: "1", field: "master_key")
    }

    static func checkPassphrase(_ passphrase: SecretKey) throws {
        let blank = passphrase.withUnsafeBytes { $0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D } }
        if passphrase.count == 0 || blank { throw VaultError.invalidInput("the passphrase is empty") }
    }
}
