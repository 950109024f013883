import Foundation
public import VaultCrypto

/// A grant just issued, with its token (shown once, never stored).
public struct IssuedGrant: Sendable {
    public let grant: Grant
    public let token: GrantToken
    /// The vault's Ed25519 public key, so the vendor can pin the share signer.
    public let signerKey: [UInt8]
}

/// Share grants: issuing (with the first share), listing, revoking, consent receipts, and
/// keeping every active grant's share current (`ShareMaterialiser.swift`).
public struct ConsentEngine: Sendable {
    let context: VaultContext

    /// Longest accepted terms / jurisdiction text.
    static let maxTermsLength = 200

    /// Issues a grant: stores it, materialises and stores its share, and records `grant.issued`,
    /// all in one transaction.
    public func create(_ request: GrantRequest) throws -> IssuedGrant {
        try validate(request)
        let now = context.now
        let scopes = Array(Set(request.scopes)).sorted()
        let token = try GrantToken.generate()
        let grantID = Random.identifier(prefix: "gr_")
        let grant = try context.write { transaction -> Grant in
            let vendor = try VendorRegistry(context: context).vendor(named: request.vendorName, in: transaction)
            let namesFields = scopes.contains {
                switch $0 {
                case .profileField, .profilePrefix: true
                default: false
                }
            }
            if !request.allowUnsetFields, namesFields {
                try Self.checkProfileScopes(scopes, keys: try ProfileBook(context: context).entries(in: transaction).map(\.key))
            }
            try insert(id: grantID, token: token, vendor: vendor, scopes: scopes, request: request, now: now, in: transaction)
            return try self.grant(id: grantID, in: transaction)
        }
        return IssuedGrant(grant: grant, token: token, signerKey: context.keys.signing.publicKey)
    }

    /// The rules every new grant meets, whoever asked for it.
    func validate(_ request: GrantRequest) throws {
        guard !request.scopes.isEmpty else {
            throw VaultError.invalidField([.scope], "a grant needs at least one scope; valid scopes: \(Scope.validForms)")
        }
        if let maxUses = request.maxUses, maxUses < 1 {
            throw VaultError.invalidField([.maxUses], "max_uses must be a positive whole number")
        }
        if let expiresAt = request.expiresAt, expiresAt <= context.now {
            throw VaultError.invalidInput("the expiry is in the past")
        }
        for text in [request.terms, request.jurisdiction].compactMap({ $0 }) where text.isEmpty || text.count > Self.maxTermsLength {
            throw VaultError.invalidInput("terms and jurisdiction must be 1-\(Self.maxTermsLength) characters")
        }
        if let url = request.notifyURL { try NotifyURL.check(url) }
        let scopes = Set(request.scopes)
        if scopes.contains(.purchaseAnnotations), !scopes.contains(.purchasesOwn), !scopes.contains(.purchasesAll) {
            throw VaultError.invalidInput("purchases.annotations adds to purchases:own or purchases:all; grant one of them too")
        }
    }

    /// Refuses a profile scope that shares none of `keys`, naming the nearest fields.
    static func checkProfileScopes(_ scopes: [Scope], keys: [String]) throws {
        for scope in scopes {
            switch scope {
            case .profileField, .profilePrefix: break
            default: continue
            }
            guard !keys.contains(where: scope.covers(profileKey:)) else { continue }
            let near = nearestProfileScopes(scope, keys: keys + ProfileKey.wellKnown)
            let fields = keys.isEmpty ? "the profile has no fields yet" : "the profile has: \(keys.sorted().prefix(12).joined(separator: ", "))"
            throw VaultError.invalidField(
                [.scope, .allowUnset],
                "scope \(scope) matches no profile field"
                    + (near.isEmpty ? "" : " (did you mean \(near.map { "\"\($0)\"" }.joined(separator: " or "))?)")
                    + "; \(fields). To share a field you will fill in later, pass allow_unset")
        }
    }

    /// The scopes a mistyped profile scope probably meant: fields whose leading segments are
    /// within a few edits of what was typed (`adress` → `profile.address.*`).
    static func nearestProfileScopes(_ scope: Scope, keys: [String]) -> [String] {
        let typed: String
        switch scope {
        case .profileField(let key): typed = key
        case .profilePrefix(let prefix): typed = prefix
        default: return []
        }
        let segments = typed.split(separator: ".").count
        let allowed = max(1, typed.count / 3)
        var best: [String: Int] = [:]
        for key in Set(keys) {
            let parts = key.split(separator: ".")
            guard parts.count >= segments else { continue }
            let head = parts.prefix(segments).joined(separator: ".")
            let distance = NearNames.editDistance(Array(typed), Array(head), limit: allowed)
            guard distance <= allowed else { continue }
            let suggestion: String
            if case .profileField = scope, parts.count == segments {
                suggestion = "profile.\(key)"
            } else {
                suggestion = "profile.\(head).*"
            }
            best[suggestion] = min(best[suggestion] ?? .max, distance)
        }
        best[scope.description] = nil
        return best.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.prefix(3).map(\.key)
    }

    /// Stores a grant and its first share and records `grant.issued`, in the caller's transaction.
    func insert(
        id grantID: String, token: GrantToken, vendor: Vendor, scopes: [Scope], request: GrantRequest, now: Date,
        in transaction: StorageTransaction
    ) throws {
        let keys = context.keys
        let vendorKey = try vendor.publicKey.map { try VendorKeyText.decodePublic($0) }
        let binding: GrantBinding = vendorKey == nil ? .bearer : .key
        let policy = GrantPolicy(
            binding: binding, createdAt: Millis.from(now), expiresAt: request.expiresAt.map(Millis.from), maxUses: request.maxUses,
            selector: Data(token.selector).base64EncodedString(), secretHash: Data(token.secretHash).base64EncodedString())
        let metadata = GrantMetadata(
            vendorID: vendor.id, scopes: scopes.map(\.description), purpose: request.purpose, terms: request.terms,
            jurisdiction: request.jurisdiction, vendorPublicKey: vendorKey.map { Data($0).base64EncodedString() }, policy: policy,
            requestID: request.requestID, termsProffered: request.termsProffered, notifyURL: request.notifyURL)
        let shareKey = binding == .bearer ? try token.shareKey(grantID: grantID) : nil
        try transaction.grants.insert(
            GrantRecord(
                id: grantID, selector: token.selector, secretHash: token.secretHash, binding: binding.rawValue, createdAt: policy.createdAt,
                expiresAt: policy.expiresAt, maxUses: policy.maxUses,
                sealed: try keys.sealJSON(metadata, table: "grants", id: grantID, field: "metadata"),
                shareKeySealed: try shareKey.map { try keys.sealSecret($0, table: "grants", id: grantID, field: "share_key") },
                statusSealed: try Self.seal(GrantStatus(version: 0, revokedAt: nil), grantID: grantID, keys: keys)))
        if let url = request.notifyURL {
            try transaction.notify.setGrantURL(grantID: grantID, url: url)
            _ = try transaction.notify.ensureKey(keys: keys, nowMillis: Millis.from(now))
        }
        try materialise(grantID: grantID, metadata: metadata, vendor: vendor, shareKey: shareKey, version: 1, in: transaction)
        try context.audit.append(
            .grantIssued,
            AuditBody(
                grantID: grantID, vendorID: vendor.id, vendor: vendor.name,
                scopes: metadata.scopes, purpose: request.purpose.rawValue, version: 1),
            atMillis: Millis.from(now), to: transaction.audit)
    }

    /// All grants, newest first, optionally for one vendor.
    public func list(vendorName: String? = nil) throws -> [Grant] {
        try context.read { transaction in
            try context.checkHistory(in: transaction)
            let all = try grants(in: transaction)
            guard let vendorName else { return all }
            let vendor = try VendorRegistry(context: context).vendor(named: vendorName, in: transaction)
            return all.filter { $0.vendorID == vendor.id }
        }
    }

    /// One grant by id; throws `notFound`.
    public func grant(id: String) throws -> Grant {
        try context.read { transaction in
            try context.checkHistory(in: transaction)
            return try grant(id: id, in: transaction)
        }
    }

    /// Seals into each grant's status the highest use count seen in its row, and destroys the
    /// share and share key of every grant that is not active by its sealed policy and status —
    /// whatever the plaintext columns say (`VaultContext.write` runs it before each commit).
    /// Rows that fail `open` are left for the reads that refuse them.
    static func settle(in transaction: StorageTransaction, keys: VaultKeys, nowMillis: Int64) throws {
        for record in try transaction.grants.all({ $0 }) {
            // The small status first; the metadata (JSON) only for the grants that need it.
            guard let box = record.statusSealed,
                var status = try? keys.openJSON(GrantStatus.self, box, table: "grants", id: record.id, field: "status")
            else { continue }
            let activeInTheClear = record.state(nowMillis: nowMillis) == .active
            guard activeInTheClear || record.useCount > (status.usesSeen ?? 0), let opened = try? open(record, keys: keys) else { continue }
            if opened.useCount > (status.usesSeen ?? 0) {
                status.usesSeen = opened.useCount
                try transaction.grants.setStatus(id: record.id, status: try seal(status, grantID: record.id, keys: keys))
            }
            // The plaintext rule (`purgeInactiveShares`) has already destroyed the others.
            if activeInTheClear, opened.state(nowMillis: nowMillis) != .active {
                try transaction.grants.destroyShare(id: record.id)
            }
        }
    }

    /// How many grants' sealed status records a revocation (a status that does not open is a
    /// tampered row).
    static func revocations(in transaction: StorageTransaction, keys: VaultKeys) throws -> Int64 {
        try transaction.grants.all { record -> Int64 in
            guard let box = record.statusSealed else { return 0 }
            return try keys.openJSON(GrantStatus.self, box, table: "grants", id: record.id, field: "status").revokedAt == nil ? 0 : 1
        }.reduce(0, +)
    }

    /// Revokes a grant at once and destroys its stored share (overwritten on disk).
    @discardableResult
    public func revoke(id: String) throws -> Grant {
        let revoked = try context.write { transaction -> Grant in
            let grant = try grant(id: id, in: transaction)
            guard grant.revokedAt == nil else { throw VaultError.conflict("grant \(id) is already revoked") }
            try revoke(grant, in: transaction)
            return try self.grant(id: id, in: transaction)
        }
        context.database.checkpoint()
        return revoked
    }

    /// Revokes `grant` in the caller's transaction and records `grant.revoked`. The sealed
    /// status records the revocation; nothing the CLI does clears it.
    func revoke(_ grant: Grant, in transaction: StorageTransaction) throws {
        let now = context.nowMillis
        let status = GrantStatus(version: grant.shareVersion, revokedAt: now, usesSeen: grant.useCount)
        try transaction.grants.revoke(id: grant.id, atMillis: now, status: Self.seal(status, grantID: grant.id, keys: context.keys))
        try context.audit.append(
            .grantRevoked,
            AuditBody(
                grantID: grant.id, vendorID: grant.vendorID, vendor: grant.vendorName,
                scopes: grant.scopes.map(\.description), purpose: grant.purpose.rawValue),
            atMillis: now, to: transaction.audit)
    }

    // MARK: - Reading grants

    /// Every grant, newest first, in the caller's transaction.
    func grants(in transaction: StorageTransaction) throws -> [Grant] {
        let vendors = try VendorRegistry(context: context).names(in: transaction)
        let keys = context.keys
        return try transaction.grants.all { try Self.decode($0, keys: keys, vendors: vendors).grant }
    }

    func grant(id: String, in transaction: StorageTransaction) throws -> Grant {
        guard let record = try transaction.grants.record(id: id) else {
            throw VaultError.notFound(kind: "grant", id: String(id.prefix(40)))
        }
        let metadata = try Self.metadata(of: record, keys: context.keys)
        let name = try VendorRegistry(context: context).vendor(id: metadata.vendorID, in: transaction)?.name
        return try Self.decode(record, keys: context.keys, vendors: [metadata.vendorID: name ?? ""]).grant
    }

    /// The sealed metadata of a grant row, opened (not checked against the row: see `open`).
    static func metadata(of record: GrantRecord, keys: VaultKeys) throws -> GrantMetadata {
        try keys.openJSON(GrantMetadata.self, record.sealed, table: "grants", id: record.id, field: "metadata")
    }

    /// Seals a grant's status (AD field `status`).
    static func seal(_ status: GrantStatus, grantID: String, keys: VaultKeys) throws -> [UInt8] {
        try keys.sealJSON(status, table: "grants", id: grantID, field: "status")
    }

    /// A grant row opened and checked: every plaintext column the CLI could act on must equal
    /// its sealed copy (the policy sealed at issue, the status sealed at each change), or the
    /// row was changed by someone without the key and nothing is done with it
    /// (`VaultError.mismatch`, exit 4). Only `use_count` is taken from the row as it is: the
    /// server counts uses without the key.
    static func open(_ record: GrantRecord, keys: VaultKeys) throws -> OpenedGrant {
        let metadata = try metadata(of: record, keys: keys)
        func mismatch(_ what: String) -> VaultError { .mismatch(table: "grants", id: record.id, column: what) }
        guard let policy = metadata.policy else { throw mismatch("the sealed policy (missing)") }
        guard let statusBox = record.statusSealed else { throw mismatch("column status_sealed (missing)") }
        let status = try keys.openJSON(GrantStatus.self, statusBox, table: "grants", id: record.id, field: "status")
        let checks: [(Bool, String)] = [
            (record.binding == policy.binding.rawValue, "binding"),
            (record.createdAt == policy.createdAt, "created_at"),
            (record.expiresAt == policy.expiresAt, "expires_at"),
            (record.maxUses == policy.maxUses, "max_uses"),
            (constantTimeEquals(Array(Data(base64Encoded: policy.selector) ?? Data()), record.selector), "selector"),
            (constantTimeEquals(Array(Data(base64Encoded: policy.secretHash) ?? Data()), record.secretHash), "secret_hash"),
            (record.revokedAt == status.revokedAt, "revoked_at"),
            (record.shareVersion == status.version, "share_version"),
            (policy.binding == .key ? record.shareKeySealed == nil && metadata.vendorPublicKey != nil : true, "share_key_sealed"),
            (record.useCount >= 0, "use_count"),
        ]
        for (holds, column) in checks where !holds { throw mismatch("column \(column)") }
        return OpenedGrant(record: record, metadata: metadata, policy: policy, status: status)
    }

    /// A grant as the customer sees it, from its row and the vendor names by id.
    static func decode(_ record: GrantRecord, keys: VaultKeys, vendors: [String: String]) throws -> (grant: Grant, metadata: GrantMetadata) {
        let opened = try open(record, keys: keys)
        let metadata = opened.metadata
        let name = vendors[metadata.vendorID].flatMap { $0.isEmpty ? nil : $0 }
        let grant = Grant(
            id: record.id, vendorID: metadata.vendorID, vendorName: name,
            scopes: try metadata.scopes.map(Scope.parse), purpose: metadata.purpose, terms: metadata.terms,
            jurisdiction: metadata.jurisdiction, binding: opened.policy.binding,
            createdAt: Millis.date(opened.policy.createdAt), expiresAt: opened.policy.expiresAt.map(Millis.date),
            maxUses: opened.policy.maxUses, useCount: opened.useCount, revokedAt: opened.status.revokedAt.map(Millis.date),
            shareVersion: opened.status.version,
            vendorKey: opened.policy.binding == .key
                ? metadata.vendorPublicKey.flatMap { Data(base64Encoded: $0) }.map { VendorKeyText.encodePublic(Array($0)) } : nil,
            requestID: metadata.requestID, termsProffered: metadata.termsProffered, notifyURL: metadata.notifyURL)
        return (grant, metadata)
    }
}

/// A grant row whose plaintext agrees with its sealed policy and status (`ConsentEngine.open`).
struct OpenedGrant {
    let record: GrantRecord
    let metadata: GrantMetadata
    let policy: GrantPolicy
    let status: GrantStatus

    /// The uses counted: the server's count, never below what the CLI saw before.
    var useCount: Int { max(record.useCount, status.usesSeen ?? 0) }

    /// The state at `nowMillis`, from the sealed policy and status (and the use count).
    func state(nowMillis: Int64) -> GrantState {
        GrantState.evaluate(
            revokedAt: status.revokedAt, expiresAt: policy.expiresAt, maxUses: policy.maxUses, useCount: useCount, nowMillis: nowMillis)
    }
}
