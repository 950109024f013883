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
            checksum: try blob("checksum"))
    }

    /// Writes the header row of a new vault.
    func insert(_ h: VaultHeader) throws {
        try db.execute(
            sql: """
                INSERT INTO vault_header (id, format_version, vault_id, kdf_alg, kdf_ops, kdf_mem, salt, wrapped_key,
                    box_public_key, sign_public_key, box_secret_sealed, sign_secret_sealed, created_at, checksum)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                h.formatVersion, Data(h.vaultID), VaultHeader.kdfAlgorithm,
                Int64(bitPattern: h.kdf.opsLimit), Int64(bitPattern: h.kdf.memLimit),
                Data(h.salt), Data(h.wrappedKey), Data(h.boxPublicKey), Data(h.signPublicKey),
                Data(h.boxSecretSealed), Data(h.signSecretSealed), h.createdAtMillis, Data(h.checksum),
            ])
    }

    /// Rewrites the passphrase-dependent fields (salt, KDF, wrapped key, checksum).
    func updateWrapping(_ h: VaultHeader) throws {
        try db.execute(
            sql: "UPDATE vault_header SET kdf_ops = ?, kdf_mem = ?, salt = ?, wrapped_key = ?, checksum = ? WHERE id = 1",
            arguments: [Int64(bitPattern: h.kdf.opsLimit), Int64(bitPattern: h.kdf.memLimit), Data(h.salt), Data(h.wrappedKey), Data(h.checksum)])
    }

    /// Whether the header row is there (the readiness probe's query).
    func isPresent() throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM vault_header") == 1
    }
}
