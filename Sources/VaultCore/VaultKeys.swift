public import VaultCrypto

/// The unlocked key ring: subkeys of the master key K and the vault's identity key pairs.
/// Exists only in the CLI process, never in the server.
public final class VaultKeys: Sendable {
    /// Subkey ids for `crypto_kdf_derive_from_key` (context `vrmvault`). See `Specs/vault-format.md`.
    enum SubkeyID: UInt64 {
        case records = 1, blindIndex = 2, grants = 3, identity = 4
    }

    /// Version of the record key; part of every record's associated data.
    static let keyVersion: UInt8 = 1

    public let vaultID: [UInt8]
    let records: SecretKey
    let blindIndexKey: SecretKey
    let grantKey: SecretKey
    /// X25519: audit bodies are sealed to its public half.
    public let box: BoxKeyPair
    /// Ed25519: shares are signed with it.
    public let signing: SigningKeyPair

    init(master: SecretKey, header: VaultHeader) throws {
        vaultID = header.vaultID
        records = try Subkeys.derive(from: master, id: SubkeyID.records.rawValue)
        blindIndexKey = try Subkeys.derive(from: master, id: SubkeyID.blindIndex.rawValue)
        grantKey = try Subkeys.derive(from: master, id: SubkeyID.grants.rawValue)
        let identity = try Subkeys.derive(from: master, id: SubkeyID.identity.rawValue)
        let vaultID = header.vaultID
        func openIdentity(_ sealed: [UInt8], _ field: String) throws -> SecretKey {
            do {
                return try AEAD.openSecret(
                    sealed, key: identity, associatedData: Self.associatedData(vaultID: vaultID, table: "vault_header", id: "1", field: field))
            } catch {
                throw VaultError.tampered(table: "vault_header", id: field)
            }
        }
        box = try BoxKeyPair(secretKey: try openIdentity(header.boxSecretSealed, "box_secret"))
        signing = try SigningKeyPair(secretKey: try openIdentity(header.signSecretSealed, "sign_secret"))
        guard box.publicKey == header.boxPublicKey, signing.publicKey == header.signPublicKey else {
            throw VaultError.corrupt("the vault identity keys do not match the header")
        }
    }

    /// `"vrm/1" 0 ‖ vault id ‖ table 0 ‖ row id 0 ‖ field 0 ‖ key version`.
    static func associatedData(vaultID: [UInt8], table: String, id: String, field: String) -> [UInt8] {
        // One allocation: this runs for every record read.
        var ad = [UInt8]()
        ad.reserveCapacity(6 + vaultID.count + table.utf8.count + id.utf8.count + field.utf8.count + 4)
        ad.append(contentsOf: "vrm/1".utf8)
        ad.append(0)
        ad.append(contentsOf: vaultID)
        ad.append(contentsOf: table.utf8)
        ad.append(0)
        ad.append(contentsOf: id.utf8)
        ad.append(0)
        ad.append(contentsOf: field.utf8)
        ad.append(0)
        ad.append(keyVersion)
        return ad
    }

    /// Encrypts a record field bound to its row identity.
    func seal(_ plaintext: [UInt8], table: String, id: String, field: String) throws -> [UInt8] {
        try AEAD.seal(plaintext, key: key(for: table), associatedData: Self.associatedData(vaultID: vaultID, table: table, id: id, field: field))
    }

    /// Decrypts a record field; a ciphertext from another row or field fails as `tampered`.
    func open(_ box: [UInt8], table: String, id: String, field: String) throws -> [UInt8] {
        do {
            return try AEAD.open(box, key: key(for: table), associatedData: Self.associatedData(vaultID: vaultID, table: table, id: id, field: field))
        } catch {
            throw VaultError.tampered(table: table, id: id)
        }
    }

    func sealSecret(_ secret: SecretKey, table: String, id: String, field: String) throws -> [UInt8] {
        try AEAD.seal(secret: secret, key: key(for: table), associatedData: Self.associatedData(vaultID: vaultID, table: table, id: id, field: field))
    }

    func openSecret(_ box: [UInt8], table: String, id: String, field: String, storage: SecretKey.Storage = .guarded) throws -> SecretKey {
        do {
            return try AEAD.openSecret(
                box, key: key(for: table), associatedData: Self.associatedData(vaultID: vaultID, table: table, id: id, field: field),
                storage: storage)
        } catch {
            throw VaultError.tampered(table: table, id: id)
        }
    }

    /// Keyed BLAKE2b of a normalised lookup value, so rows can be found without storing the value.
    func blindIndex(table: String, value: String) -> [UInt8] {
        BLAKE2b.hash([Array(table.utf8), [0], Array(value.utf8)], key: blindIndexKey)
    }

    private func key(for table: String) -> SecretKey {
        table == "grants" ? grantKey : records
    }
}
