import Foundation
import GRDB
import VaultCrypto

/// The `vault_header` table: its single row (`VaultHeader`).
struct HeaderTable {
    let db: Database

    /// The header, checked for shape and format (not for its checksum: the caller does that).
    func read() throws -> VaultHeader {
        guard try db.tableExists("vault_header") else {
            throw VaultError.corrupt("not a VRM vault (no vault header)")
        }
        let columns = [
            "format_version", "vault_id", "kdf_alg", "kdf_ops", "kdf_mem", "salt", "wrapped_key", "box_public_key",
            "sign_public_key", "box_secret_sealed", "sign_secret_sealed", "created_at", "checksum",
        ]
        let row = try RawStatement(db, "SELECT \(columns.joined(separator: ", ")) FROM vault_header WHERE id = 1")
        defer { row.reset() }
        guard try row.step() else { throw VaultError.corrupt("the vault header is missing") }
        func index(_ column: String) -> Int32 { Int32(columns.firstIndex(of: column) ?? 0) }
        guard let format = try? row.integer(index("format_version"), "format_version", of: "vault_header") else {
            throw VaultError.corrupt("the vault header is damaged")
        }
        guard format <= VaultHeader.currentFormat else {
            throw VaultError.corrupt("written by a newer vrm (format \(format); this build reads up to \(VaultHeader.currentFormat))")
        }
        guard format >= 1, (try? row.text(index("kdf_alg"), "kdf_alg", of: "vault_header")) == VaultHeader.kdfAlgorithm else {
            throw VaultError.corrupt("unknown vault format or key-derivation algorithm")
        }
        func blob(_ column: String) throws -> [UInt8] {
            guard let value = try? row.blob(index(column), column, of: "vault_header") else {
                throw VaultError.corrupt("the vault header is damaged (\(column))")
            }
            return value
        }
        func int64(_ column: String) throws -> Int64 {
            guard let value = try? row.integer(index(column), column, of: "vault_header") else {
                throw VaultError.corrupt("the vault header is damaged (\(column))")
            }
            return value
        }
        // `mac`, `generation` and `records_digest` arrive with migration v3-authenticated; a
        // probe of a format-1 file may predate them.
        var mac: [UInt8]?
        var generation: Int64?
        var recordsDigest: [UInt8]?
        if try db.columns(in: "vault_header").contains(where: { $0.name == "records_digest" }) {
            let statement = try RawStatement(db, "SELECT mac, generation, records_digest FROM vault_header WHERE id = 1")
            defer { statement.reset() }
            if try statement.step() {
                do {
                    mac = try statement.optionalBlob(0, "mac", of: "vault_header", row: "1")
                    generation = try statement.optionalInteger(1, "generation", of: "vault_header", row: "1")
                    recordsDigest = try statement.optionalBlob(2, "records_digest", of: "vault_header", row: "1")
                } catch {
                    throw VaultError.corrupt("the vault header is damaged (mac, generation or records_digest)")
                }
            }
        }
        return VaultHeader(
            formatVersion: Int(format),
            vaultID: try blob("vault_id"),
            kdf: KDFParameters(opsLimit: UInt64(bitPattern: try int64("kdf_ops")), memLimit: UInt64(bitPattern: try int64("kdf_mem"))),
            salt: try blob("salt"),
            wrappedKey: try blob("wrapped_key"),
            boxPublicKey: try blob("box_public_key"),
            signPublicKey: try blob("sign_public_key"),
            boxSecretSealed: try blob("box_secret_sealed"),
            signSecretSealed: try blob("sign_secret_sealed"),
            createdAtMillis: try int64("created_at"),
            checksum: try blob("checksum"), mac: mac, generation: generation, recordsDigest: recordsDigest)
    }

    /// Writes the header row of a new vault.
    func insert(_ h: VaultHeader) throws {
        try db.execute(
            sql: """
                INSERT INTO vault_header (id, format_version, vault_id, kdf_alg, kdf_ops, kdf_mem, salt, wrapped_key,
                    box_public_key, sign_public_key, box_secret_sealed, sign_secret_sealed, created_at, checksum, mac, generation, records_digest)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                h.formatVersion, Data(h.vaultID), VaultHeader.kdfAlgorithm,
                Int64(bitPattern: h.kdf.opsLimit), Int64(bitPattern: h.kdf.memLimit),
                Data(h.salt), Data(h.wrappedKey), Data(h.boxPublicKey), Data(h.signPublicKey),
                Data(h.boxSecretSealed), Data(h.signSecretSealed), h.createdAtMillis, Data(h.checksum), h.mac.map { Data($0) },
                h.generation, h.recordsDigest.map { Data($0) },
            ])
    }

    /// Rewrites every field that can change after creation (passphrase change, key rotation,
    /// format migration): format, KDF, salt, wrapped key, box key pair, sealed secrets, checksum, MAC.
    /// The vault id, signing public key and creation time never change.
    func update(_ h: VaultHeader) throws {
        try db.execute(
            sql: """
                UPDATE vault_header SET format_version = ?, kdf_ops = ?, kdf_mem = ?, salt = ?, wrapped_key = ?,
                    box_public_key = ?, box_secret_sealed = ?, sign_secret_sealed = ?, checksum = ?, mac = ?, generation = ?,
                    records_digest = ?
                WHERE id = 1
                """,
            arguments: [
                h.formatVersion, Int64(bitPattern: h.kdf.opsLimit), Int64(bitPattern: h.kdf.memLimit), Data(h.salt), Data(h.wrappedKey),
                Data(h.boxPublicKey), Data(h.boxSecretSealed), Data(h.signSecretSealed), Data(h.checksum), h.mac.map { Data($0) },
                h.generation, h.recordsDigest.map { Data($0) },
            ])
    }

    /// Whether the header row is there (the readiness probe's query).
    func isPresent() throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM vault_header") == 1
    }
}
