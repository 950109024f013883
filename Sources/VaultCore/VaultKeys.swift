public import VaultCrypto

/// The unlocked key ring: subkeys of the master key K and the vault's identity key pairs.
/// Exists only in the CLI process, never in the server.
public final class VaultKeys: Sendable {
    /// Subkey ids for `crypto_kdf_derive_from_key` (context `vrmvault`). See `Specs/vault-format.md`.
    enum SubkeyID: UInt64 {
        case records = 1, blindIndex = 2, grants = 3, identity = 4, integrity = 5
    }

    /// Version of the record key; part of every record's associated data.
    static let keyVersion: UInt8 = 1

    public let vaultID: [UInt8]
    let records: SecretKey
    let blindIndexKey: SecretKey
    let grantKey: SecretKey
    /// Keys the MACs of format 2: the header, the CLI's history entries and the checkpoint.
    let integrityKey: SecretKey
    /// X25519: audit bodies are sealed to its public half.
    public let box: BoxKeyPair
    /// Ed25519: shares are signed with it.
    public let signing: SigningKeyPair
    /// X25519 key pairs replaced by key rotations, newest first: history entries written
    /// before a rotation were boxed to one of them.
    let retiredBoxes: [BoxKeyPair]

    /// Every X25519 secret that may open a history body: the current one first.
    var boxSecrets: [SecretKey] { [box.secretKey] + retiredBoxes.map(\.secretKey) }

    init(master: SecretKey, header: VaultHeader, retired: [RetiredKeysTable.Row] = []) throws {
        vaultID = header.vaultID
        records = try Subkeys.derive(from: master, id: SubkeyID.records.rawValue)
        blindIndexKey = try Subkeys.derive(from: master, id: SubkeyID.blindIndex.rawValue)
        grantKey = try Subkeys.derive(from: master, id: SubkeyID.grants.rawValue)
        integrityKey = try Subkeys.derive(from: master, id: SubkeyID.integrity.rawValue)
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
        retiredBoxes = try retired.reversed().map { row in
            let secret: SecretKey
            do {
                secret = try AEAD.openSecret(
                    row.secretSealed, key: identity,
                    associatedData: Self.associatedData(vaultID: vaultID, table: "retired_keys", id: row.id, field: "box_secret"))
            } catch {
                throw VaultError.tampered(table: "retired_keys", id: row.id)
            }
            let pair = try BoxKeyPair(secretKey: secret)
            guard pair.publicKey == row.publicKey else { throw VaultError.mismatch(table: "retired_keys", id: row.id, column: "column box_public_key") }
            return pair
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

    /// Keyed BLAKE2b-256 under the integrity subkey:
    /// `"vrm-mac-v1" 0 ‖ domain 0 ‖ (u32be(len) ‖ part)…`. Each use has its own domain.
    func mac(_ domain: String, _ parts: [[UInt8]]) -> [UInt8] {
        BLAKE2b.hash(key: integrityKey) { input in
            input.append(utf8: "vrm-mac-v1")
            input.append([0])
            input.append(utf8: domain)
            input.append([0])
            for part in parts {
                input.append(bigEndian: UInt32(part.count))
                input.append(part)
            }
        }
    }

    /// Whether `tag` is `mac(domain, parts)` (constant time).
    func verifyMAC(_ tag: [UInt8]?, _ domain: String, _ parts: [[UInt8]]) -> Bool {
        guard let tag else { return false }
        return constantTimeEquals(tag, mac(domain, parts))
    }

    /// The header MAC of format 2: over the fields the checksum covers, then the generation
    /// (`u64be`) and the records digest.
    func headerMAC(_ header: VaultHeader) -> [UInt8] {
        mac(
            "vault_header",
            header.authenticatedFields + [VaultHeader.u64(UInt64(bitPattern: header.generation ?? -1)), header.recordsDigest ?? []])
    }

    /// Whether the header carries its MAC (format 2).
    func headerIsAuthentic(_ header: VaultHeader) -> Bool {
        guard let tag = header.mac else { return false }
        return constantTimeEquals(tag, headerMAC(header))
    }

    /// The MAC the CLI stores with each history entry it writes: over the entry's chain hash,
    /// which commits to the entry and to every entry before it.
    func auditMAC(hash: [UInt8]) -> [UInt8] {
        mac("audit", [hash])
    }

    /// Keyed BLAKE2b of a normalised lookup value, so rows can be found without storing the value.
    func blindIndex(table: String, value: String) -> [UInt8] {
        BLAKE2b.hash([Array(table.utf8), [0], Array(value.utf8)], key: blindIndexKey)
    }

    private func key(for table: String) -> SecretKey {
        table == "grants" ? grantKey : records
    }
}
