public import Foundation
public import GRDB
public import VaultCrypto

/// A grant just issued, with its token (shown once, never stored).
public struct IssuedGrant: Sendable {
    public let grant: Grant
    public let token: GrantToken
    /// The vault's Ed25519 public key, so the vendor can pin the share signer.
    public let signerKey: [UInt8]
}

extension Vault {
    /// Longest accepted `--terms` / jurisdiction text.
    static let maxTermsLength = 200

    /// Issues a grant: stores it, materialises and stores its share, and records `grant.issued`,
    /// all in one transaction.
    public func createGrant(_ request: GrantRequest) throws -> IssuedGrant {
        guard !request.scopes.isEmpty else {
            throw VaultError.invalidInput("a grant needs at least one --scope; valid scopes: \(Scope.validForms)")
        }
        if let maxUses = request.maxUses, maxUses < 1 {
            throw VaultError.invalidInput("--max-uses must be a positive whole number")
        }
        let now = self.now
        if let expiresAt = request.expiresAt, expiresAt <= now {
            throw VaultError.invalidInput("the expiry is in the past")
        }
        for text in [request.terms, request.jurisdiction].compactMap({ $0 }) where text.isEmpty || text.count > Self.maxTermsLength {
            throw VaultError.invalidInput("terms and jurisdiction must be 1-\(Self.maxTermsLength) characters")
        }
        let scopes = Array(Set(request.scopes)).sorted()
        if scopes.contains(.purchaseAnnotations), !scopes.contains(.purchasesOwn), !scopes.contains(.purchasesAll) {
            throw VaultError.invalidInput("purchases.annotations adds to purchases:own or purchases:all; grant one of them too")
        }
        let token = try GrantToken.generate()
        let grantID = Random.identifier(prefix: "gr_")
        let grant = try transaction { db -> Grant in
            let vendor = try vendor(named: request.vendorName, db)
            try insertGrant(id: grantID, token: token, vendor: vendor, scopes: scopes, request: request, now: now, db)
            return try self.grant(id: grantID, db)
        }
        return IssuedGrant(grant: grant, token: token, signerKey: keys.signing.publicKey)
    }

    /// Stores a grant and its first share and records `grant.issued`, in the caller's transaction.
    func insertGrant(id grantID: String, token: GrantToken, vendor: Vendor, scopes: [Scope], request: GrantRequest, now: Date,
                     _ db: Database) throws {
        let vendorKey = try vendor.publicKey.map { try VendorKeyText.decodePublic($0) }
        let metadata = GrantMetadata(
            vendorID: vendor.id, scopes: scopes.map(\.description), purpose: request.purpose, terms: request.terms,
            jurisdiction: request.jurisdiction, vendorPublicKey: vendorKey.map { Data($0).base64EncodedString() })
        let binding: GrantBinding = vendorKey == nil ? .bearer : .key
        let shareKey = binding == .bearer ? try token.shareKey(grantID: grantID) : nil
        try db.execute(
            sql: """
                INSERT INTO grants (id, selector, secret_hash, binding, created_at, expires_at, max_uses, use_count,
                    share_version, sealed, share_key_sealed)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)
                """,
            arguments: [
                grantID, Data(token.selector), Data(token.secretHash), binding.rawValue, Millis.from(now),
                request.expiresAt.map(Millis.from), request.maxUses,
                Data(try sealJSON(metadata, table: "grants", id: grantID, field: "metadata")),
                try shareKey.map { Data(try keys.sealSecret($0, table: "grants", id: grantID, field: "share_key")) },
            ])
        try materialise(grantID: grantID, metadata: metadata, vendor: vendor, shareKey: shareKey, version: 1,
                        expiresAt: request.expiresAt, db)
        try audit.append(.grantIssued, AuditBody(grantID: grantID, vendorID: vendor.id, vendor: vendor.name,
                                                 scopes: metadata.scopes, purpose: request.purpose.rawValue, version: 1),
                         atMillis: Millis.from(now), db)
    }

    /// All grants, newest first, optionally for one vendor.
    public func grants(vendorName: String? = nil) throws -> [Grant] {
        try database.read { db in
            let all = try grants(db)
            guard let vendorName else { return all }
            let vendor = try vendor(named: vendorName, db)
            return all.filter { $0.vendorID == vendor.id }
        }
    }

    /// One grant by id; throws `notFound`.
    public func grant(id: String) throws -> Grant {
        try database.read { db in try grant(id: id, db) }
    }

    /// Revokes a grant at once and destroys its stored share (overwritten on disk).
    @discardableResult
    public func revokeGrant(id: String) throws -> Grant {
        let revoked = try transaction { db -> Grant in
            let grant = try grant(id: id, db)
            guard grant.revokedAt == nil else { throw VaultError.conflict("grant \(id) is already revoked") }
            try revoke(grant, db)
            return try self.grant(id: id, db)
        }
        database.checkpoint()
        return revoked
    }

    func revoke(_ grant: Grant, _ db: Database) throws {
        try db.execute(sql: "UPDATE grants SET revoked_at = ?, share_key_sealed = NULL WHERE id = ?", arguments: [nowMillis, grant.id])
        try db.execute(sql: "DELETE FROM shares WHERE grant_id = ?", arguments: [grant.id])
        try audit.append(.grantRevoked, AuditBody(grantID: grant.id, vendorID: grant.vendorID, vendor: grant.vendorName,
                                                  scopes: grant.scopes.map(\.description), purpose: grant.purpose.rawValue),
                         atMillis: nowMillis, db)
    }

    // MARK: - Reading grant rows

    func grants(_ db: Database) throws -> [Grant] {
        let vendors = Dictionary(try allVendors(db).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        // Each grant's metadata is sealed JSON: on a vault with thousands of grants, decrypting
        // and decoding them is most of `vrm audit`, so large reads use every core.
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM grants ORDER BY created_at DESC, id").map(GrantColumns.init)
        return try Self.parallelMap(rows) { try decodeGrant($0, vendors: vendors).grant }
    }

    func grant(id: String, _ db: Database) throws -> Grant {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM grants WHERE id = ?", arguments: [id]) else {
            throw VaultError.notFound(kind: "grant", id: String(id.prefix(40)))
        }
        let metadata = try openJSON(GrantMetadata.self, row.bytes("sealed"), table: "grants", id: id, field: "metadata")
        let name = try vendor(id: metadata.vendorID, db)?.name
        return try decodeGrant(row, vendors: [metadata.vendorID: name ?? ""]).grant
    }

    func decodeGrant(_ row: Row, vendors: [String: String]) throws -> (grant: Grant, metadata: GrantMetadata) {
        try decodeGrant(GrantColumns(row), vendors: vendors)
    }

    func decodeGrant(_ row: GrantColumns, vendors: [String: String]) throws -> (grant: Grant, metadata: GrantMetadata) {
        let metadata = try openJSON(GrantMetadata.self, row.sealed, table: "grants", id: row.id, field: "metadata")
        let name = vendors[metadata.vendorID].flatMap { $0.isEmpty ? nil : $0 }
        let grant = Grant(
            id: row.id, vendorID: metadata.vendorID, vendorName: name,
            scopes: try metadata.scopes.map(Scope.parse), purpose: metadata.purpose, terms: metadata.terms,
            jurisdiction: metadata.jurisdiction,
            binding: GrantBinding(rawValue: row.binding) ?? .bearer,
            createdAt: Millis.date(row.createdAt), expiresAt: row.expiresAt.map(Millis.date),
            maxUses: row.maxUses, useCount: row.useCount, revokedAt: row.revokedAt.map(Millis.date),
            shareVersion: row.shareVersion)
        return (grant, metadata)
    }
}

/// The columns of a `grants` row that make a `Grant`, as plain values that may cross threads
/// (GRDB rows may not).
struct GrantColumns: Sendable {
    let id: String
    let sealed: [UInt8]
    let binding: String
    let createdAt: Int64
    let expiresAt: Int64?
    let maxUses: Int?
    let useCount: Int
    let revokedAt: Int64?
    let shareVersion: Int

    init(_ row: Row) {
        id = row["id"]
        sealed = row.bytes("sealed")
        binding = row["binding"]
        createdAt = row["created_at"]
        expiresAt = row["expires_at"]
        maxUses = row["max_uses"]
        useCount = row["use_count"]
        revokedAt = row["revoked_at"]
        shareVersion = row["share_version"]
    }
}
