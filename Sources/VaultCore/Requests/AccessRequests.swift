public import Foundation
public import VaultCrypto

/// A request link as made: show `uri` (and its QR code) to the vendor once; the code is not kept.
public struct RequestLink: Sendable {
    /// `vrm-request:<endpoint>?code=vrmq_…&vault=<hex>&key=<b64url>`.
    public let uri: String
    public let endpoint: String
    public let expiresAt: Date
    /// The vendor the customer meant it for, if named.
    public let vendor: String?
    /// The code's selector in hex (its public name, in the history and `vrm request list`).
    public let selector: String
}

/// An access request as the customer sees it (`vrm request list | show`).
public struct AccessRequest: Sendable {
    public enum Status: String, Sendable, Codable { case pending, approved, denied, expired, unreadable }

    public let id: String
    public let receivedAt: Date
    public let status: Status
    /// The opened request; nil when `unreadable`.
    public let body: AccessRequestBody?
    /// Why the request cannot be read (`unreadable` only).
    public let problem: String?
    /// The vendor the link was made for, and when the link expired.
    public let linkVendor: String?
    public let linkExpiresAt: Date?
    public let decidedAt: Date?
    public let grantID: String?
    public let reason: String?
    /// Other requests that carry this one's link code while none is answered: an endpoint takes
    /// one request per code, so all but one were copied where requests are kept (the vault file
    /// or the relay), and which one the vendor was given cannot be told from them.
    public var copies: [String] = []
}

/// The link's part only the CLI reads (`request_links.sealed`).
struct RequestLinkSecret: Codable {
    var secret: String
    var vendor: String?
    var endpoint: String
    /// The request this link's code was answered for, and how (`approved`, `denied`): a link
    /// admits one answer. In the records digest with the row, so a host cannot undo it.
    var answered: String?
    var answer: String?
    /// When, and the denial's reason: what `vrm request show` still tells if the host deleted
    /// the row's own decision.
    var answeredAt: Int64?
    var reason: String?
}

/// The CLI's own record of a decision (`access_requests.decision_sealed`, AD field `decision`).
struct RequestDecision: Codable {
    var status: String
    var decidedAt: Int64
    var grantID: String?
    var reason: String?
    /// The token sealed to the vendor's key (base64url), for an approval: what a linked relay
    /// is given to hand out comes from here, not from the row's plaintext column.
    var tokenSealed: String?
}

/// What `vrm request approve` may change: each only narrows the request.
public struct RequestNarrowing: Sendable {
    public var scopes: [Scope]?
    public var expiresAt: Date?
    public var maxUses: Int?

    public init(scopes: [Scope]? = nil, expiresAt: Date? = nil, maxUses: Int? = nil) {
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.maxUses = maxUses
    }
}

/// Request links, and the customer's decisions on the requests vendors sent with them
/// (`Specs/requests.md` §1, §3).
public struct AccessRequests: Sendable {
    let context: VaultContext

    /// Makes a one-time request link valid for `expiresIn` seconds, answered at `endpoint`.
    public func link(vendor: String?, expiresIn: TimeInterval, endpoint: String) throws -> RequestLink {
        guard expiresIn >= 60, expiresIn <= TimeInterval(RequestLimits.maxLinkSeconds) else {
            throw VaultError.invalidInput("a request link lives 1 minute to 90 days")
        }
        let endpoint = try Self.checkEndpoint(endpoint)
        if let vendor {
            guard !vendor.trimmingCharacters(in: .whitespaces).isEmpty, vendor.count <= 200 else {
                throw VaultError.invalidInput("--vendor must be 1-200 characters")
            }
        }
        let code = try RequestCode.generate()
        let now = context.nowMillis
        let expires = now.saturatingAdd(Int64(expiresIn * 1000))
        let selector = Hex.encode(code.selector)
        let keys = context.keys
        var secret = code.secret.exposedCopy()
        defer { Wipe.bytes(&secret) }
        let sealed = try keys.sealJSON(
            RequestLinkSecret(secret: Base64URL.encode(secret), vendor: vendor, endpoint: endpoint), table: "request_links", id: selector,
            field: "sealed")
        try context.write { transaction in
            try transaction.requests.deleteUnusedLinks(expiredBefore: now.saturatingSubtract(RequestLimits.pendingGraceMillis))
            try transaction.requests.dropSealedTokens(decidedBefore: now - RequestLimits.sealedTokenMillis)
            try transaction.requests.insertLink(
                RequestLinkRow(selector: code.selector, codeHash: code.secretHash, createdAt: now, expiresAt: expires, sealed: sealed, usedAt: nil))
            try context.audit.append(.requestLinked, AuditBody(vendor: vendor, link: selector), atMillis: now, to: transaction.audit)
        }
        // `sig`: the share-signing key, for the vendor to pin before it has any grant card.
        let uri =
            "vrm-request:\(endpoint)?code=\(code.encoded())&vault=\(Hex.encode(keys.vaultID))&key=\(Base64URL.encode(keys.box.publicKey))"
            + "&sig=\(Base64URL.encode(keys.signing.publicKey))"
        return RequestLink(uri: uri, endpoint: endpoint, expiresAt: Millis.date(expires), vendor: vendor, selector: selector)
    }

    /// An endpoint URL: http(s), a host, no query, fragment or credentials; without a trailing `/`.
    static func checkEndpoint(_ text: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let url = URLComponents(string: trimmed), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil, url.user == nil, url.password == nil,
            trimmed.count <= 500
        else {
            throw VaultError.invalidInput(
                "the endpoint must be an http(s) URL such as https://vault.example:8443, with a host and no user, password, query or #fragment, "
                    + "at most 500 characters")
        }
        return trimmed.hasSuffix("/") ? String(trimmed.dropLast()) : trimmed
    }

    /// Every request, newest first, opened.
    public func all() throws -> [AccessRequest] {
        try context.read { transaction in
            try context.checkHistory(in: transaction)
            // A row whose id is not a request id was not made by an endpoint (nothing can be
            // done with it, and its text is not printed).
            return try transaction.requests.requests().filter { RequestID.isWellFormed($0.id) }.map { try open($0, in: transaction) }
        }
    }

    /// One request; throws `notFound`.
    public func request(id: String) throws -> AccessRequest {
        try context.read { transaction in
            try context.checkHistory(in: transaction)
            return try open(try row(id: id, in: transaction), in: transaction)
        }
    }

    private func row(id: String, in transaction: StorageTransaction) throws -> AccessRequestRow {
        guard RequestID.isWellFormed(id), let row = try transaction.requests.request(id: id) else {
            throw VaultError.notFound(kind: "access request", id: ImportProblem.shown(id, 40))
        }
        return row
    }

    /// Opens a request row: its link (sealed by this CLI), the MAC keyed by the link's code,
    /// the box sealed to the vault key, the JSON's rules, and the CLI's sealed decision. The
    /// plaintext `status` the endpoint answers from is not what the CLI goes by.
    func open(_ row: AccessRequestRow, in transaction: StorageTransaction) throws -> AccessRequest {
        let keys = context.keys
        let now = context.nowMillis
        var decision: RequestDecision?
        if let box = row.decisionSealed {
            decision = try keys.openJSON(RequestDecision.self, box, table: "access_requests", id: row.id, field: "decision")
        }
        func result(_ status: AccessRequest.Status, body: AccessRequestBody?, problem: String?, link: RequestLinkSecret?, expires: Int64?)
            -> AccessRequest
        {
            AccessRequest(
                id: row.id, receivedAt: Millis.date(row.receivedAt), status: decision.flatMap { AccessRequest.Status(rawValue: $0.status) } ?? status,
                body: body, problem: problem, linkVendor: link?.vendor, linkExpiresAt: expires.map(Millis.date),
                decidedAt: decision.map { Millis.date($0.decidedAt) }, grantID: decision?.grantID, reason: decision?.reason)
        }
        guard let linkRow = try transaction.requests.link(selector: row.linkSelector) else {
            return result(.unreadable, body: nil, problem: "its request link is not in the vault", link: nil, expires: nil)
        }
        let link = try keys.openJSON(RequestLinkSecret.self, linkRow.sealed, table: "request_links", id: Hex.encode(linkRow.selector), field: "sealed")
        // The link's own record of its answer decides (the row's sealed decision only adds when
        // and why): a decision the host deleted does not make the request pending again, and
        // a second request with one link — a copy the host made — is not another to approve.
        if let answered = link.answered {
            guard answered == row.id else {
                // Only a denial can be this request's own (the CLI's sealed decision says so).
                if decision?.status != "denied" { decision = nil }
                return result(
                    .unreadable, body: nil, problem: "another request with the same link (\(answered)) was answered already", link: link,
                    expires: linkRow.expiresAt)
            }
            if decision?.status != link.answer {
                decision = link.answer.map {
                    RequestDecision(
                        status: $0, decidedAt: link.answeredAt ?? row.decidedAt ?? row.receivedAt, grantID: nil, reason: link.reason, tokenSealed: nil)
                }
            }
        } else if decision != nil {
            // A decision in the row that the link does not record is not the CLI's.
            throw VaultError.mismatch(table: "access_requests", id: row.id, column: "column decision_sealed (its link records no answer)")
        }
        guard var secretBytes = Base64URL.decode(link.secret), secretBytes.count == RequestCode.secretBytes else {
            throw VaultError.tampered(table: "request_links", id: Hex.encode(linkRow.selector))
        }
        let code = RequestCode(selector: linkRow.selector, secret: try SecretKey(wiping: &secretBytes, storage: .scratch))
        // The proof is keyed by the code's secret, which only the vendor and this vault hold:
        // a request the endpoint (which saw `auth`) made or changed fails here.
        guard code.verifies(proof: row.proof, sealed: row.sealed) else {
            return result(
                .unreadable, body: nil, problem: "its proof does not match its link's code (not sent by the link's holder, or changed since)",
                link: link, expires: linkRow.expiresAt)
        }
        var opened: [UInt8]?
        for secret in keys.boxSecrets {
            if let pair = try? BoxKeyPair(secretKey: secret), let bytes = try? SealedBox.open(row.sealed, keyPair: pair) {
                opened = bytes
                break
            }
        }
        guard var bytes = opened else {
            return result(.unreadable, body: nil, problem: "it is not sealed to this vault's key", link: link, expires: linkRow.expiresAt)
        }
        defer { Wipe.bytes(&bytes) }
        let body: AccessRequestBody
        do {
            body = try AccessRequestBody.decode(bytes)
        } catch {
            // What the vendor wrote is quoted in some errors: no control or direction characters
            // reach the customer's terminal.
            return result(.unreadable, body: nil, problem: ImportProblem.shown("\(error)", 400), link: link, expires: linkRow.expiresAt)
        }
        let expired = now > linkRow.expiresAt.saturatingAdd(RequestLimits.pendingGraceMillis)
        var request = result(expired ? .expired : .pending, body: body, problem: nil, link: link, expires: linkRow.expiresAt)
        request.copies = try transaction.requests.requestIDs(linkSelector: row.linkSelector).filter { $0 != row.id && RequestID.isWellFormed($0) }
        return request
    }

    /// Approves a pending request, narrowed: adds the vendor (with its key) if new, issues a
    /// key-bound grant that names the request, seals its token to the vendor's key for the
    /// endpoint to hand over, and records `request.approved` — one transaction.
    /// With copies of the request (`AccessRequest.copies`), only when `copiesChecked`: the
    /// customer asked the vendor which id it was given.
    public func approve(id: String, narrowing: RequestNarrowing, copiesChecked: Bool = false) throws -> (request: AccessRequest, grant: IssuedGrant) {
        let engine = ConsentEngine(context: context)
        let registry = VendorRegistry(context: context)
        let now = context.now
        let token = try GrantToken.generate()
        let grantID = Random.identifier(prefix: "gr_")
        let (request, issued) = try context.write { transaction -> (AccessRequest, IssuedGrant) in
            let row = try row(id: id, in: transaction)
            let request = try open(row, in: transaction)
            guard request.status == .pending, let body = request.body else { throw Self.undecidable(request) }
            if !request.copies.isEmpty, !copiesChecked {
                throw VaultError.conflict(
                    "\(([request.id] + request.copies).joined(separator: ", ")) carry the same one-time link code, and an endpoint takes one "
                        + "request per code: all but one are copies made where requests are kept (this vault file or the relay). Ask the vendor "
                        + "which id its request was answered with; approve that one with --copies-checked (the others then cannot be approved), "
                        + "or deny")
            }
            let asked = try body.scopes.map(Scope.parse)
            let scopes = narrowing.scopes ?? asked
            for scope in scopes where !asked.contains(where: { scope.isWithin($0) }) {
                throw VaultError.invalidField(
                    [.scope],
                    "scope \(scope) was not asked for (the request asks for \(asked.map(\.description).joined(separator: ", "))); approval can only narrow")
            }
            let askedExpiry = now.addingTimeInterval(TimeInterval(body.expiresIn))
            if let expiresAt = narrowing.expiresAt, expiresAt > askedExpiry.addingTimeInterval(1) {
                throw VaultError.invalidInput(
                    "the request asks for \(AccessRequestBody.words(forDuration: body.expiresIn)); approval can shorten it, not extend it")
            }
            if let maxUses = narrowing.maxUses, let asked = body.maxUses, maxUses > asked {
                throw VaultError.invalidInput("the request asks for at most \(asked) uses; approval can lower that, not raise it")
            }
            let vendorKey = try VendorRegistry.canonicalPublicKey(body.vendorKey)
            let vendor: Vendor
            if try transaction.vendors.exists(nameIndex: registry.nameIndex(body.vendor.name)) {
                let existing = try registry.vendor(named: body.vendor.name, in: transaction)
                guard let key = existing.publicKey else {
                    throw VaultError.conflict(
                        "a vendor named \(existing.name) exists without a key, and this request's grant must be bound to the requester's key; "
                            + "if it is the same vendor, give it the key first (vrm vendor edit \(existing.name) --public-key \(vendorKey)), or deny")
                }
                guard key == vendorKey else {
                    throw VaultError.conflict(
                        "the vendor \(existing.name) has another key than this request's: it may not come from \(existing.name); deny it, or check with the vendor"
                    )
                }
                vendor = existing
            } else {
                // A new name must not pass for a vendor the customer has (another Unicode form,
                // another case, invisible characters): that would be a second "Acme" with the
                // requester's key.
                let folded = Self.folded(body.vendor.name)
                if let lookalike = try registry.names(in: transaction).values.first(where: { Self.folded($0) == folded }) {
                    throw VaultError.conflict(
                        "the request's vendor name looks like your vendor \(ImportProblem.shown(lookalike, 80)) but is not spelled the same: "
                            + "it may not come from them; deny it, or check with the vendor")
                }
                vendor = Vendor(
                    id: context.newRowID(), name: body.vendor.name.trimmingCharacters(in: .whitespacesAndNewlines), site: body.vendor.site,
                    contact: body.vendor.contact, publicKey: vendorKey, stage: .awareness, notes: nil, createdAt: now, updatedAt: now)
                try registry.insert(vendor, in: transaction)
            }
            var grantRequest = GrantRequest(
                vendorName: vendor.name, scopes: scopes, purpose: try Purpose.parse(body.purpose),
                expiresAt: narrowing.expiresAt ?? askedExpiry, maxUses: narrowing.maxUses ?? body.maxUses, allowUnsetFields: true)
            grantRequest.requestID = row.id
            grantRequest.termsProffered = body.terms
            grantRequest.notifyURL = body.notifyURL
            try engine.validate(grantRequest)
            try engine.insert(
                id: grantID, token: token, vendor: vendor, scopes: Array(Set(scopes)).sorted(), request: grantRequest, now: now, in: transaction)
            let keyBytes = try VendorKeyText.decodePublic(vendorKey)
            var tokenBytes = Array(token.encoded().utf8)
            defer { Wipe.bytes(&tokenBytes) }
            let sealedToken = try SealedBox.seal(tokenBytes, to: keyBytes)
            try decide(row, status: "approved", grantID: grantID, reason: nil, tokenSealed: sealedToken, in: transaction)
            try context.audit.append(
                .requestApproved,
                AuditBody(
                    grantID: grantID, vendorID: vendor.id, vendor: vendor.name, scopes: Array(Set(scopes)).sorted().map(\.description),
                    purpose: body.purpose, requestID: row.id),
                atMillis: Millis.from(now), to: transaction.audit)
            let grant = try engine.grant(id: grantID, in: transaction)
            return (
                try open(try self.row(id: id, in: transaction), in: transaction),
                IssuedGrant(grant: grant, token: token, signerKey: context.keys.signing.publicKey)
            )
        }
        return (request, issued)
    }

    /// Denies a pending (or unreadable) request and records `request.denied`.
    public func deny(id: String, reason: String?) throws -> AccessRequest {
        if let reason {
            guard !reason.isEmpty, reason.count <= 200 else { throw VaultError.invalidInput("--reason must be 1-200 characters") }
        }
        return try context.write { transaction in
            let row = try row(id: id, in: transaction)
            let request = try open(row, in: transaction)
            guard request.status == .pending || request.status == .unreadable || request.status == .expired else {
                throw Self.undecidable(request)
            }
            try decide(row, status: "denied", grantID: nil, reason: reason, tokenSealed: nil, in: transaction)
            try context.audit.append(
                .requestDenied, AuditBody(vendor: request.body?.vendor.name, reason: reason, requestID: row.id), atMillis: context.nowMillis,
                to: transaction.audit)
            return try open(try self.row(id: id, in: transaction), in: transaction)
        }
    }

    private func decide(
        _ row: AccessRequestRow, status: String, grantID: String?, reason: String?, tokenSealed: [UInt8]?, in transaction: StorageTransaction
    ) throws {
        let now = context.nowMillis
        var decided = row
        decided.status = status
        decided.decidedAt = now
        decided.grantID = grantID
        decided.tokenSealed = tokenSealed
        if status == "approved", let linkRow = try transaction.requests.link(selector: row.linkSelector) {
            let link = try context.keys.openJSON(
                RequestLinkSecret.self, linkRow.sealed, table: "request_links", id: Hex.encode(linkRow.selector), field: "sealed")
            decided.endpoint = link.endpoint
        }
        decided.decisionSealed = try context.keys.sealJSON(
            RequestDecision(status: status, decidedAt: now, grantID: grantID, reason: reason, tokenSealed: tokenSealed.map(Base64URL.encode)),
            table: "access_requests", id: row.id,
            field: "decision")
        try transaction.requests.decide(decided)
        guard let linkRow = try transaction.requests.link(selector: row.linkSelector) else { return }
        let selector = Hex.encode(linkRow.selector)
        var link = try context.keys.openJSON(RequestLinkSecret.self, linkRow.sealed, table: "request_links", id: selector, field: "sealed")
        if let answered = link.answered, answered != row.id {
            // A second request with an answered link (a copy) may be denied: its link keeps its answer.
            guard status == "denied" else { throw VaultError.conflict("a request with this link (\(answered)) was answered already") }
            return
        }
        link.answered = row.id
        link.answer = status
        link.answeredAt = now
        link.reason = reason
        try transaction.requests.resealLink(
            selector: linkRow.selector, sealed: try context.keys.sealJSON(link, table: "request_links", id: selector, field: "sealed"))
    }

    /// A name as people read it: compatibility-composed, case-folded, without format characters
    /// or spaces, and with the Cyrillic and Greek letters that look like Latin ones read as those
    /// (capitals first, as they look: "АСМЕ" and "Асме", all Cyrillic, read as "acme").
    static func folded(_ name: String) -> String {
        func mapped(_ text: String, _ table: [Unicode.Scalar: Unicode.Scalar]) -> String {
            String(String.UnicodeScalarView(text.unicodeScalars.map { table[$0] ?? $0 }))
        }
        // Before and after the compatibility mapping: it turns some look-alikes (the lunate
        // sigma Ϲ, which looks like C) into letters that do not look like Latin ones.
        // Decomposed, and the marks dropped: "Acmé" and "Acmẹ" read as "Acme" beside it.
        let raw = mapped(mapped(name, lookalikeCapitals), lookalikeSmall)
        let capitals = mapped(raw.decomposedStringWithCompatibilityMapping, lookalikeCapitals)
        return String(
            String.UnicodeScalarView(
                mapped(capitals.lowercased(), lookalikeSmall).unicodeScalars.filter {
                    let category = $0.properties.generalCategory
                    return category != .format && category != .nonspacingMark && category != .enclosingMark && !$0.properties.isWhitespace
                        && !$0.properties.isDefaultIgnorableCodePoint && $0 != "\u{2800}"  // the braille blank shows as a space
                }))
    }

    /// Cyrillic, Greek and Cherokee capitals and the Latin capitals they pass for.
    static let lookalikeCapitals = lookalikes(
        "А=A В=B С=C Е=E Н=H І=I Ј=J К=K М=M О=O Р=P Ԛ=Q Ѕ=S Т=T Х=X У=Y Ԝ=W Α=A Β=B Ϲ=C Ε=E Ζ=Z Η=H Ι=I Κ=K Μ=M Ν=N Ο=O Ρ=P Τ=T Υ=Y Χ=X "
            + "Ꭺ=A Ᏼ=B Ꮯ=C Ꭼ=E Ꮐ=G Ꮋ=H Ꭻ=J Ꮶ=K Ꮮ=L Ꮇ=M Ꮎ=O Ꮲ=P Ꮪ=S Ꭲ=T Ꮩ=V Ꮃ=W Ꮓ=Z")
    /// Cyrillic and Greek small letters, Latin small capitals and other look-alikes, and the
    /// Latin small letters they pass for.
    static let lookalikeSmall = lookalikes(
        "а=a в=b с=c ԁ=d е=e ё=e г=r һ=h н=h і=i ї=i ј=j к=k ӏ=l м=m п=n о=o р=p ԛ=q ѕ=s т=t и=u у=y х=x ԝ=w ѵ=v "
            + "α=a ϲ=c ε=e ι=i κ=k ο=o ρ=p τ=t υ=u ν=v χ=x γ=y "
            + "ᴀ=a ʙ=b ᴄ=c ᴅ=d ᴇ=e ɢ=g ʜ=h ɪ=i ᴊ=j ᴋ=k ʟ=l ᴍ=m ɴ=n ᴏ=o ᴘ=p ʀ=r ꜱ=s ᴛ=t ᴜ=u ᴠ=v ᴡ=w ʏ=y ᴢ=z ɑ=a ℮=e")

    private static func lookalikes(_ pairs: String) -> [Unicode.Scalar: Unicode.Scalar] {
        var map: [Unicode.Scalar: Unicode.Scalar] = [:]
        for pair in pairs.split(separator: " ") {
            let scalars = Array(pair.unicodeScalars)
            if scalars.count == 3 { map[scalars[0]] = scalars[2] }
        }
        return map
    }

    static func undecidable(_ request: AccessRequest) -> VaultError {
        switch request.status {
        case .approved:
            .conflict("request \(request.id) is approved already\(request.grantID.map { " (grant \($0))" } ?? ""); revoke its grant to end it")
        case .denied: .conflict("request \(request.id) is denied already")
        case .expired: .conflict("request \(request.id) expired: it was not decided within 7 days of its link's expiry; deny it or ask for a new one")
        case .unreadable: .conflict("request \(request.id) cannot be read (\(request.problem ?? "unknown")); it can only be denied")
        case .pending: .conflict("request \(request.id) is pending")
        }
    }
}

extension Scope {
    /// Whether granting `self` shares no more than `asked` would: the same scope, a profile
    /// field or prefix under an asked prefix (or `profile`), or own purchases for all.
    public func isWithin(_ asked: Scope) -> Bool {
        if self == asked { return true }
        switch (self, asked) {
        case (.profileField, .profile), (.profilePrefix, .profile): return true
        case (.profileField(let key), .profilePrefix(let prefix)): return key.hasPrefix(prefix + ".")
        case (.profilePrefix(let inner), .profilePrefix(let prefix)): return inner.hasPrefix(prefix + ".")
        case (.purchasesOwn, .purchasesAll): return true
        default: return false
        }
    }
}
