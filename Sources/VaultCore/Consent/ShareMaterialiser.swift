import Foundation
import VaultCrypto

/// Materialised shares: the CLI (which holds the vault key) builds each grant's share document
/// — only the granted data plus grant metadata — signs it, encrypts it and stores it, so the
/// server can serve it without the key; and rebuilds it whenever the customer changes data the
/// grant covers.
extension ConsentEngine {
    /// Builds, signs, encrypts and stores the share for one active grant at `version`, and
    /// seals the new version into the grant's status. How it is protected follows the sealed
    /// policy's binding: a bearer grant needs its share key, a key-bound one its vendor key.
    ///
    /// With `unlessContent`, the digest of what the share held before (`GrantStatus.content`):
    /// when the new document would say the same (only `issued_at` and `version` differ),
    /// nothing is stored and it returns false, so the version (the vendor's ETag) moves only
    /// when the shared data does.
    @discardableResult
    func materialise(
        grantID: String, metadata: GrantMetadata, vendor: Vendor?, shareKey: SecretKey?, version: Int, usesSeen: Int? = nil,
        unlessContent previous: String? = nil, profile: [(key: String, value: String)]? = nil, in transaction: StorageTransaction
    ) throws -> Bool {
        let keys = context.keys
        guard let policy = metadata.policy else { throw VaultError.mismatch(table: "grants", id: grantID, column: "the sealed policy (missing)") }
        let scopes = try metadata.scopes.map(Scope.parse)
        let vendorKey = policy.binding == .key ? metadata.vendorPublicKey.flatMap { Data(base64Encoded: $0) }.map(Array.init) : nil
        let document = ShareDocument(
            format: ShareDocument.format, vaultID: keys.vaultID.hexString, grantID: grantID, vendor: vendor?.name ?? "",
            purpose: metadata.purpose.rawValue, terms: metadata.terms, scopes: metadata.scopes,
            issuedAt: Timestamp.string(context.now), expiresAt: policy.expiresAt.map { Timestamp.string(Millis.date($0)) }, version: version,
            vendorKey: vendorKey.map(VendorKeyText.encodePublic),
            data: try shareData(scopes: scopes, vendor: vendor, profile: profile, in: transaction))
        let content = try Self.contentDigest(document, keys: keys)
        if let previous, previous == content { return false }
        var documentBytes = Array(try VaultKeys.encoder.encode(document))
        defer { Wipe.bytes(&documentBytes) }
        var signed = SignedShare.sign(documentBytes, with: keys.signing).jsonBytes
        defer { Wipe.bytes(&signed) }
        let body: [UInt8]
        switch (policy.binding, shareKey, vendorKey) {
        case (.bearer, let shareKey?, _):
            body = try AEAD.seal(
                signed, key: shareKey,
                associatedData: ShareCipher.associatedData(
                    vaultID: keys.vaultID, grantID: grantID, version: version, limits: (policy.expiresAt, policy.maxUses)))
        case (.key, _, let vendorKey?):
            body = try SealedBox.seal(signed, to: vendorKey)
        default:
            throw VaultError.mismatch(table: "grants", id: grantID, column: policy.binding == .bearer ? "column share_key_sealed (missing)" : "the vendor key")
        }
        try transaction.grants.storeShare(
            grantID: grantID, version: version, body: body, updatedAt: context.nowMillis,
            status: Self.seal(GrantStatus(version: version, revokedAt: nil, usesSeen: usesSeen, content: content), grantID: grantID, keys: keys))
        return true
    }

    /// A keyed digest of what a share document says apart from when it was built and its
    /// version: `mac("share-content", [document JSON with issued_at "" and version 0])`, base64.
    static func contentDigest(_ document: ShareDocument, keys: VaultKeys) throws -> String {
        var timeless = document
        timeless.issuedAt = ""
        timeless.version = 0
        var bytes = Array(try VaultKeys.encoder.encode(timeless))
        defer { Wipe.bytes(&bytes) }
        return Data(keys.mac("share-content", [bytes])).base64EncodedString()
    }

    /// Exactly the granted data, nothing else.
    /// `profile`, when given, is the already-decrypted profile (re-materialising many grants reads it once).
    func shareData(
        scopes: [Scope], vendor: Vendor?, profile: [(key: String, value: String)]? = nil,
        in transaction: StorageTransaction
    ) throws -> ShareData {
        var data = ShareData()
        let profileScopes = scopes.filter {
            if case .profile = $0 { true } else if case .profileField = $0 { true } else if case .profilePrefix = $0 { true } else { false }
        }
        if !profileScopes.isEmpty {
            var fields: [String: String] = [:]
            for entry in try profile ?? ProfileBook(context: context).entries(in: transaction)
            where profileScopes.contains(where: { $0.covers(profileKey: entry.key) }) {
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
            let names = try VendorRegistry(context: context).names(in: transaction)
            data.purchases = try PurchaseLedger(context: context).purchases(vendorID: purchaseScope, in: transaction).map { p in
                SharedPurchase(
                    id: p.id, vendor: names[p.vendorID] ?? "", item: p.item, date: p.date.description, price: p.price?.amount,
                    currency: p.price?.currency, quantity: p.quantity, gift: p.isGift,
                    rating: annotated ? p.annotations.rating : nil, returned: annotated ? p.annotations.returned : nil,
                    warrantyUntil: annotated ? p.annotations.warrantyUntil?.description : nil,
                    notes: annotated ? p.annotations.notes : nil, tags: annotated ? p.annotations.tags : nil)
            }
        }
        if scopes.contains(.casesOwn) {
            data.cases = try CaseBook(context: context).cases(vendorID: vendor?.id ?? "-", in: transaction).map { c in
                SharedCase(
                    id: c.id, subject: c.subject, channel: c.channel.rawValue, priority: c.priority.rawValue, status: c.status.rawValue,
                    openedAt: Timestamp.string(c.openedAt), resolvedAt: c.resolvedAt.map(Timestamp.string),
                    followUp: c.followUp?.description, reference: c.reference,
                    timeline: c.timeline.map { .init(at: Timestamp.string($0.at), kind: $0.kind.rawValue, channel: $0.channel?.rawValue, text: $0.text) })
            }
        }
        return data
    }

    /// Rebuilds, in the caller's transaction, the share of every active grant the change touches
    /// whose shared data it changed, bumping its version and recording `share.rematerialised`.
    /// Returns how many were rebuilt.
    @discardableResult
    func rematerialise(affectedBy change: DataChange, in transaction: StorageTransaction) throws -> Int {
        let now = context.nowMillis
        let keys = context.keys
        let active = try transaction.grants.active(nowMillis: now)
        guard !active.isEmpty else { return 0 }
        let vendors = VendorRegistry(context: context)
        var vendorCache: [String: Vendor?] = [:]
        var profile: [(key: String, value: String)]?
        var tip = try context.audit.tip(in: transaction.audit)
        var rebuilt = 0
        for record in active {
            // Selected by the plaintext rule; acted on only if the sealed copy agrees.
            let opened = try Self.open(record, keys: keys)
            // Active by the clear columns but not by the sealed ones (a use count lowered below
            // what the CLI saw): not rebuilt, and `ConsentEngine.settle` destroys its share.
            guard opened.state(nowMillis: now) == .active else { continue }
            let metadata = opened.metadata
            guard change.affects(scopes: try metadata.scopes.map(Scope.parse), grantVendorID: metadata.vendorID) else { continue }
            if vendorCache[metadata.vendorID] == nil { vendorCache[metadata.vendorID] = .some(try vendors.vendor(id: metadata.vendorID, in: transaction)) }
            let vendor = vendorCache[metadata.vendorID] ?? nil
            let shareKey = try record.shareKeySealed.map {
                try keys.openSecret($0, table: "grants", id: record.id, field: "share_key", storage: .scratch)
            }
            if profile == nil { profile = try ProfileBook(context: context).entries(in: transaction) }
            let (version, overflow) = opened.status.version.addingReportingOverflow(1)
            guard !overflow else { throw RawStatement.damaged("grants", record.id, "share_version") }
            let stored = try materialise(
                grantID: record.id, metadata: metadata, vendor: vendor, shareKey: shareKey, version: version,
                usesSeen: opened.useCount, unlessContent: opened.status.content, profile: profile, in: transaction)
            guard stored else { continue }  // the shared data did not change
            try context.audit.append(
                .shareRematerialised,
                AuditBody(
                    grantID: record.id, vendorID: metadata.vendorID, vendor: vendor?.name,
                    scopes: metadata.scopes, purpose: metadata.purpose.rawValue, version: version),
                atMillis: now, tip: &tip, to: transaction.audit)
            rebuilt += 1
        }
        return rebuilt
    }
}

/// Associated data for bearer share ciphertexts, known to both the CLI and the server.
/// Format 2 binds the grant's expiry and use limit (`limits`) into the field, so the server,
/// which computes it from the row's plaintext columns, cannot decrypt — and so never releases —
/// the share of a grant whose limits were changed in the file. Format-1 rows (no sealed
/// status) used the version alone.
enum ShareCipher {
    static func associatedData(vaultID: [UInt8], grantID: String, version: Int, limits: (expiresAt: Int64?, maxUses: Int?)?) -> [UInt8] {
        var field = "v\(version)"
        if let limits {
            field += ";expires=\(limits.expiresAt.map(String.init) ?? "never");max_uses=\(limits.maxUses.map(String.init) ?? "unlimited")"
        }
        return VaultKeys.associatedData(vaultID: vaultID, table: "shares", id: grantID, field: field)
    }
}

extension Array where Element == UInt8 {
    var hexString: String { Hex.encode(self) }
}
