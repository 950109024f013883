public import Foundation
public import GRDB
public import VaultCrypto

extension Vault {
    /// Builds, signs, encrypts and stores the share for one grant at `version`.
    func materialise(grantID: String, metadata: GrantMetadata, vendor: Vendor?, shareKey: SecretKey?, version: Int,
                     expiresAt: Date?, profile: [(key: String, value: String)]? = nil, _ db: Database) throws {
        let scopes = try metadata.scopes.map(Scope.parse)
        let document = ShareDocument(
            format: ShareDocument.format, vaultID: keys.vaultID.hexString, grantID: grantID, vendor: vendor?.name ?? "",
            purpose: metadata.purpose.rawValue, terms: metadata.terms, scopes: metadata.scopes,
            issuedAt: Timestamp.string(now), expiresAt: expiresAt.map(Timestamp.string), version: version,
            data: try shareData(scopes: scopes, vendor: vendor, profile: profile, db))
        var documentBytes = Array(try Self.encoder.encode(document))
        defer { Wipe.bytes(&documentBytes) }
        var signed = Array(try Self.encoder.encode(SignedShare.sign(documentBytes, with: keys.signing)))
        defer { Wipe.bytes(&signed) }
        let body: [UInt8]
        if let shareKey {
            body = try AEAD.seal(signed, key: shareKey, associatedData: ShareCipher.associatedData(vaultID: keys.vaultID, grantID: grantID, version: version))
        } else if let encoded = metadata.vendorPublicKey, let vendorKey = Data(base64Encoded: encoded) {
            body = try SealedBox.seal(signed, to: Array(vendorKey))
        } else {
            throw VaultError.corrupt("grant \(grantID) has neither a share key nor a vendor key")
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO shares (grant_id, version, body, updated_at) VALUES (?, ?, ?, ?)",
            arguments: [grantID, version, Data(body), nowMillis])
        try db.execute(sql: "UPDATE grants SET share_version = ? WHERE id = ?", arguments: [version, grantID])
    }

    /// Exactly the granted data, nothing else.
    /// `profile`, when given, is the already-decrypted profile (re-materialising many grants reads it once).
    func shareData(scopes: [Scope], vendor: Vendor?, profile: [(key: String, value: String)]? = nil, _ db: Database) throws -> ShareData {
        var data = ShareData()
        let profileScopes = scopes.filter { if case .profile = $0 { true } else if case .profileField = $0 { true } else if case .profilePrefix = $0 { true } else { false } }
        if !profileScopes.isEmpty {
            var fields: [String: String] = [:]
            for entry in try profile ?? profileEntries(db) where profileScopes.contains(where: { $0.covers(profileKey: entry.key) }) {
                fields[entry.key] = entry.value
            }
            data.profile = fields
        }
        let entry = scopes.contains(.vendor)
        if let vendor, entry || scopes.contains(.vendorNotes) {
            data.vendor = SharedVendor(
                name: vendor.name, site: entry ? vendor.site : nil, contact: entry ? vendor.contact : nil,
                stage: entry ? vendor.stage.rawValue : nil, notes: scopes.contains(.vendorNotes) ? vendor.notes : nil)
        }
        let purchaseScope = scopes.contains(.purchasesAll) ? .some(nil) : scopes.contains(.purchasesOwn) ? .some(vendor?.id ?? "-") : Optional<String?>.none
        if let purchaseScope {
            let annotated = scopes.contains(.purchaseAnnotations)
            let names = Dictionary(try allVendors(db).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            data.purchases = try purchases(vendorID: purchaseScope, db).map { p in
                SharedPurchase(
                    id: p.id, vendor: names[p.vendorID] ?? "", item: p.item, date: p.date.description, price: p.price?.amount,
                    currency: p.price?.currency, quantity: p.quantity, gift: p.isGift,
                    rating: annotated ? p.annotations.rating : nil, returned: annotated ? p.annotations.returned : nil,
                    warrantyUntil: annotated ? p.annotations.warrantyUntil?.description : nil,
                    notes: annotated ? p.annotations.notes : nil, tags: annotated ? p.annotations.tags : nil)
            }
        }
        if scopes.contains(.casesOwn) {
            data.cases = try cases(vendorID: vendor?.id ?? "-", db).map { c in
                SharedCase(
                    id: c.id, subject: c.subject, channel: c.channel.rawValue, priority: c.priority.rawValue, status: c.status.rawValue,
                    openedAt: Timestamp.string(c.openedAt), resolvedAt: c.resolvedAt.map(Timestamp.string),
                    followUp: c.followUp?.description, reference: c.reference,
                    timeline: c.timeline.map { .init(at: Timestamp.string($0.at), kind: $0.kind.rawValue, channel: $0.channel?.rawValue, text: $0.text) })
            }
        }
        return data
    }

    /// Rebuilds, in the caller's transaction, the share of every active grant the change touches,
    /// bumping its version and recording `share.rematerialised`. Returns how many were rebuilt.
    @discardableResult
    func rematerialise(affectedBy change: DataChange, _ db: Database) throws -> Int {
        let now = nowMillis
        let rows = try Row.fetchAll(db, sql: """
            SELECT * FROM grants
            WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR use_count < max_uses)
            """, arguments: [now])
        guard !rows.isEmpty else { return 0 }
        var vendorCache: [String: Vendor?] = [:]
        var profile: [(key: String, value: String)]?
        var tip = try audit.tip(db)
        var rebuilt = 0
        for row in rows {
            let id: String = row["id"]
            let metadata = try openJSON(GrantMetadata.self, row.bytes("sealed"), table: "grants", id: id, field: "metadata")
            guard change.affects(scopes: try metadata.scopes.map(Scope.parse), grantVendorID: metadata.vendorID) else { continue }
            if vendorCache[metadata.vendorID] == nil { vendorCache[metadata.vendorID] = .some(try vendor(id: metadata.vendorID, db)) }
            let vendor = vendorCache[metadata.vendorID] ?? nil
            let shareKey = try (row["share_key_sealed"] as Data?).map {
                try keys.openSecret(Array($0), table: "grants", id: id, field: "share_key", storage: .scratch)
            }
            if profile == nil { profile = try profileEntries(db) }
            let version = (row["share_version"] as Int? ?? 0) + 1
            try materialise(grantID: id, metadata: metadata, vendor: vendor, shareKey: shareKey, version: version,
                            expiresAt: (row["expires_at"] as Int64?).map(Millis.date), profile: profile, db)
            try audit.append(.shareRematerialised, AuditBody(grantID: id, vendorID: metadata.vendorID, vendor: vendor?.name,
                                                             scopes: metadata.scopes, purpose: metadata.purpose.rawValue, version: version),
                             atMillis: now, tip: &tip, db)
            rebuilt += 1
        }
        return rebuilt
    }
}

/// Associated data for bearer share ciphertexts, known to both the CLI and the server.
enum ShareCipher {
    static func associatedData(vaultID: [UInt8], grantID: String, version: Int) -> [UInt8] {
        VaultKeys.associatedData(vaultID: vaultID, table: "shares", id: grantID, field: "v\(version)")
    }
}

extension Array where Element == UInt8 {
    var hexString: String { Hex.encode(self) }
}
