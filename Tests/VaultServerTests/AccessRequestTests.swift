import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VaultCore
import VaultCrypto
@testable import VaultServer
import VaultTestSupport

@Suite struct AccessRequestTests {
    func post(_ client: some TestClientProtocol, _ body: Data) async throws -> (HTTPResponse.Status, [String: String]) {
        try await client.execute(uri: "/v1/requests", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(data: body)) {
            response in
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            return (response.status, object.compactMapValues { $0 as? String })
        }
    }

    func outcome(_ client: some TestClientProtocol, _ id: String) async throws -> (HTTPResponse.Status, RequestOutcome?) {
        try await client.execute(uri: "/v1/requests/\(id)", method: .get) { response in
            (response.status, try? JSONDecoder().decode(RequestOutcome.self, from: Data(buffer: response.body)))
        }
    }

    @Test func aVendorAsksIsApprovedNarrowerFetchesItsSealedTokenAndRedeemsIt() async throws {
        let f = try Fixture()
        let link = try f.vault.requests.link(vendor: "Cobalt", expiresIn: 3600, endpoint: "http://127.0.0.1:8080")
        #expect(link.uri.hasPrefix("vrm-request:http://127.0.0.1:8080?code=vrmq_"))
        let vendor = try AskingVendor(link: link)
        try await f.app().test(.router) { client in
            let (status, answer) = try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email", "profile.address.*"])))
            #expect(status == .created)
            let id = try #require(answer["id"])
            #expect(answer["status"] == "pending")
            // One request per code.
            let (again, _) = try await post(client, try vendor.submission(vendor.body(scopes: ["profile"])))
            #expect(again == .forbidden)
            #expect(try await outcome(client, id).1?.status == .pending)

            let listed = try f.vault.requests.all()
            #expect(listed.map(\.id) == [id])
            #expect(listed[0].status == .pending)
            #expect(listed[0].body?.vendor.name == "Cobalt Shop")
            #expect(listed[0].linkVendor == "Cobalt")

            // Approval only narrows.
            #expect(throws: VaultError.self) { try f.vault.requests.approve(id: id, narrowing: RequestNarrowing(scopes: [.profile])) }
            #expect(throws: VaultError.self) { try f.vault.requests.approve(id: id, narrowing: RequestNarrowing(maxUses: 11)) }
            #expect(throws: VaultError.self) {
                try f.vault.requests.approve(id: id, narrowing: RequestNarrowing(expiresAt: f.clock.now.addingTimeInterval(2 * 86_400)))
            }
            let (decided, issued) = try f.vault.requests.approve(
                id: id, narrowing: RequestNarrowing(scopes: [.profileField("address.shipping")], maxUses: 3))
            #expect(decided.status == .approved)
            #expect(issued.grant.binding == .key)
            #expect(issued.grant.scopes == [.profileField("address.shipping")])
            #expect(issued.grant.maxUses == 3)
            #expect(issued.grant.requestID == id)
            #expect(issued.grant.termsProffered?.id == "ieee7012:basic-1")
            #expect(throws: VaultError.self) { try f.vault.requests.approve(id: id, narrowing: RequestNarrowing()) }
            // The consent receipt and the ISO 27560 record say the grant answered the request.
            let receipt = String(decoding: try JSONEncoder().encode(try f.vault.grants.consentReceipt(grantID: issued.grant.id)), as: UTF8.self)
            #expect(receipt.contains("\"request_id\":\"\(id)\"") && receipt.contains("ieee7012:basic-1"))
            let record = String(decoding: try JSONEncoder().encode(try f.vault.grants.consentRecord27560(grantID: issued.grant.id)), as: UTF8.self)
            #expect(record.contains("vrm-request:\(id)") && record.contains("ieee7012:basic-1"))

            let (ok, approved) = try await outcome(client, id)
            #expect(ok == .ok)
            #expect(approved?.status == .approved)
            #expect(approved?.grantID == issued.grant.id)
            #expect(approved?.endpoint == "http://127.0.0.1:8080")
            let sealed = try #require(approved?.tokenSealed.flatMap(Base64URL.decode))
            let token = String(decoding: try SealedBox.open(sealed, keyPair: vendor.key), as: UTF8.self)

            try await client.execute(uri: "/v1/share", method: .get, headers: bearer(token)) { response in
                #expect(response.status == .ok)
                let share = try JSONDecoder().decode(SealedShare.self, from: Data(buffer: response.body))
                let document = try share.open(with: vendor.key).verified(expectedSigner: f.vault.keys.signing.publicKey).document
                #expect(document.data.profile == ["address.shipping": "1 Main St"])
            }
        }
        let events = try f.vault.audit.entries().map(\.event)
        for event in ["request.linked", "request.received", "grant.issued", "request.approved", "share.redeemed"] {
            #expect(events.contains(event), "\(event) in \(events)")
        }
        let requestID = try f.vault.requests.all().first?.id
        let entries = try f.vault.audit.entries()
        #expect(entries.first { $0.event == "request.received" }?.body.requestID == requestID)
        #expect(entries.first { $0.event == "request.approved" }?.body.requestID == requestID)
        #expect(entries.first { $0.event == "request.approved" }?.authenticated == true)
        #expect(entries.first { $0.event == "request.linked" }?.body.link?.count == 32)
        // The sealed request never shows in the file in the clear.
        #expect(!rawVaultContains(f.dir.file("vault.db"), "Cobalt Shop"))
        #expect(!rawVaultContains(f.dir.file("vault.db"), "cobalt.example"))
    }

    @Test func aRequestWithoutAValidCodeATamperedBodyOrAfterItsLinkExpiredIsRefused() async throws {
        let f = try Fixture()
        let link = try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example")
        let vendor = try AskingVendor(link: link)
        try await f.app().test(.router) { client in
            // A code nobody issued.
            let forged = try JSONEncoder().encode(try RequestSubmission(code: try RequestCode.generate(), sealed: Array(repeating: 1, count: 80)))
            let (unknown, problem) = try await post(client, forged)
            #expect(unknown == .forbidden)
            #expect(problem["type"] == "urn:vrm-vault:problem:invalid-request-code")
            // Not a code at all; not JSON.
            #expect(try await post(client, Data(#"{"selector":"nope","auth":"AA","sealed":"AA","mac":"AA","proof":"AA"}"#.utf8)).0 == .forbidden)
            for garbage in ["not json", "[]", "null", "{}"] { #expect(try await post(client, Data(garbage.utf8)).0 == .forbidden, "\(garbage)") }
            // Changed in transit: the MAC does not match, and the code is not spent.
            let (tampered, tamperedProblem) = try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"]), tamper: true))
            #expect(tampered == .badRequest)
            #expect(tamperedProblem["type"] == "urn:vrm-vault:problem:invalid-body")
            // Too large.
            let big = try JSONEncoder().encode(try RequestSubmission(code: try RequestCode.parse(vendor.code), sealed: Array(repeating: 7, count: 20_000)))
            #expect(try await post(client, big).0 == .badRequest)
            let huge = Data(#"{"selector":"x","auth":"x","proof":"x","sealed":""#.utf8) + Data(repeating: 0x41, count: 70_000) + Data(#"","mac":"x"}"#.utf8)
            #expect(try await post(client, huge).0 == .contentTooLarge)
            // After the link expired.
            f.clock.advance(by: 601)
            #expect(try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"]))).0 == .forbidden)
            // Unknown and malformed ids.
            #expect(try await outcome(client, RequestID.generate()).0 == .notFound)
            #expect(try await outcome(client, "rq_../../etc").0 == .notFound)
        }
        #expect(try f.vault.requests.all().isEmpty)
    }

    @Test func wrongCodesCountAgainstTheClientLikeWrongTokens() async throws {
        let f = try Fixture()
        let forged = try JSONEncoder().encode(try RequestSubmission(code: try RequestCode.generate(), sealed: Array(repeating: 1, count: 80)))
        let vendor = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
        try await f.app().test(.router) { client in
            // A body without a code is a wrong code, whatever else it holds.
            let noCode = try await post(client, Data(#"{"sealed":"x"}"#.utf8)).0
            let empty = try await post(client, Data(#"{}"#.utf8)).0
            #expect(noCode == .forbidden && empty == .forbidden)
        }
        try await f.app(maxFailures: 3).test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<4 { statuses.append(try await post(client, forged).0) }
            #expect(statuses == [.forbidden, .forbidden, .forbidden, .tooManyRequests])
            // Over the budget, a genuine code is answered all the same, and so is its outcome.
            let (asked, answer) = try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"])))
            let known = try await outcome(client, answer["id"] ?? "").0
            let unknown = try await outcome(client, RequestID.generate()).0
            #expect(asked == .created && known == .ok && unknown == .tooManyRequests)
        }
    }

    @Test func aDenialIsAnsweredAndRecordedAndAnUnreadableRequestCanOnlyBeDenied() async throws {
        let f = try Fixture()
        let vendorA = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
        let linkB = try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example")
        let vendorB = try AskingVendor(link: linkB)
        try await f.app().test(.router) { client in
            let (_, a) = try await post(client, try vendorA.submission(vendorA.body(scopes: ["profile.email"])))
            // B seals something that is not a request (the MAC is right: the CLI finds it out).
            let sealed = try SealedBox.seal(Array("{}".utf8), to: vendorB.vaultKey)
            let (_, b) = try await post(client, try JSONEncoder().encode(try RequestSubmission(code: try RequestCode.parse(vendorB.code), sealed: sealed)))
            let idA = try #require(a["id"])
            let idB = try #require(b["id"])
            let denied = try f.vault.requests.deny(id: idA, reason: "not needed")
            #expect(denied.status == .denied)
            #expect(try await outcome(client, idA).1?.status == .denied)
            let unreadable = try f.vault.requests.request(id: idB)
            #expect(unreadable.status == .unreadable)
            #expect(throws: VaultError.self) { try f.vault.requests.approve(id: idB, narrowing: RequestNarrowing()) }
            #expect(try f.vault.requests.deny(id: idB, reason: nil).status == .denied)
        }
        #expect(try f.vault.audit.entries().filter { $0.event == "request.denied" }.count == 2)
    }

    @Test func aRequestTheEndpointSwappedIsUnreadableAndCannotBeApproved() async throws {
        let f = try Fixture()
        let vendor = try AskingVendor(link: try f.vault.requests.link(vendor: "Cobalt", expiresIn: 600, endpoint: "https://vault.example"))
        // The endpoint saw the vendor's `auth` (never the code's secret): it swaps in a request
        // of its own, with its key, and recomputes the transit MAC; it cannot make the proof.
        let thief = try BoxKeyPair.generate()
        var changed = vendor.body(scopes: ["profile"])
        changed.vendorKey = VendorKeyText.encodePublic(thief.publicKey)
        let swapped = changed
        try await f.app().test(.router) { client in
            let (status, answer) = try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"]), forge: swapped))
            #expect(status == .created)
            let id = try #require(answer["id"])
            let request = try f.vault.requests.request(id: id)
            #expect(request.status == .unreadable && request.body == nil)
            #expect(throws: VaultError.self) { try f.vault.requests.approve(id: id, narrowing: RequestNarrowing()) }
        }
        // And in the file: a host that rewrites the stored request's body is caught the same way.
        let other = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
        try await f.app().test(.router) { client in
            let (_, answer) = try await post(client, try other.submission(other.body(scopes: ["profile.email"])))
            let id = try #require(answer["id"])
            let forged = try SealedBox.seal(Array(try JSONEncoder().encode(swapped)), to: other.vaultKey)
            try rawExecute(f.dir.file("vault.db"), "UPDATE access_requests SET sealed = x'\(Hex.encode(forged))' WHERE id = '\(id)'")
            #expect(try f.vault.requests.request(id: id).status == .unreadable)
        }
    }

    @Test func aHostCannotUndoADecisionNorCopyARequestIntoASecondGrant() async throws {
        let f = try Fixture()
        let vendor = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
        let id = try await f.app().test(.router) { client in
            try #require(try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"]))).1["id"])
        }
        _ = try f.vault.requests.approve(id: id, narrowing: RequestNarrowing())
        let path = f.dir.file("vault.db")
        // The host makes it pending again, and copies it under another id.
        try rawExecute(path, "UPDATE access_requests SET status = 'pending', decision_sealed = NULL, token_sealed = NULL WHERE id = '\(id)'")
        let copy = RequestID.generate()
        try rawExecute(
            path,
            "INSERT INTO access_requests (id, link_selector, sealed, proof, received_at, status) SELECT '\(copy)', link_selector, sealed, proof, received_at + 1, 'pending' FROM access_requests WHERE id = '\(id)'"
        )
        #expect(try f.vault.requests.request(id: id).status == .approved)
        #expect(try f.vault.requests.request(id: copy).status == .unreadable)
        #expect(throws: VaultError.self) { try f.vault.requests.approve(id: id, narrowing: RequestNarrowing()) }
        #expect(throws: VaultError.self) { try f.vault.requests.approve(id: copy, narrowing: RequestNarrowing()) }
        #expect(try f.vault.grants.list().filter { $0.requestID != nil }.count == 1)
        // The copy can be denied (so the endpoint stops answering it as pending).
        #expect(try f.vault.requests.deny(id: copy, reason: nil).status == .denied)
        #expect(try f.vault.requests.request(id: id).status == .approved)
    }

    @Test func copiesOfAPendingRequestAreShownAndApprovedOnlyOnceTheVendorSaidWhichIsItsOwn() async throws {
        let f = try Fixture()
        let vendor = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
        let id = try await f.app().test(.router) { client in
            try #require(try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"]))).1["id"])
        }
        // Before any answer, the host copies the request under another id.
        let copy = RequestID.generate()
        try rawExecute(
            f.dir.file("vault.db"),
            "INSERT INTO access_requests (id, link_selector, sealed, proof, received_at, status) SELECT '\(copy)', link_selector, sealed, proof, received_at, 'pending' FROM access_requests WHERE id = '\(id)'"
        )
        let both = try f.vault.requests.all()
        #expect(both.count == 2 && both.allSatisfy { $0.status == .pending })
        #expect(try f.vault.requests.request(id: id).copies == [copy])
        #expect(try f.vault.requests.request(id: copy).copies == [id])
        // Neither is approved on its own say: which one the vendor was given cannot be told.
        for either in [id, copy] {
            #expect(throws: VaultError.self) { try f.vault.requests.approve(id: either, narrowing: RequestNarrowing()) }
        }
        #expect(try f.vault.grants.list().filter { $0.requestID != nil }.isEmpty)
        // The vendor says its id: approved, and the copy cannot be any more.
        _ = try f.vault.requests.approve(id: id, narrowing: RequestNarrowing(scopes: [.profileField("email"), .profileField("email")]), copiesChecked: true)
        #expect(try f.vault.requests.request(id: copy).status == .unreadable)
        #expect(throws: VaultError.self) { try f.vault.requests.approve(id: copy, narrowing: RequestNarrowing(), copiesChecked: true) }
        // The history names each scope once.
        let approved = try #require(try f.vault.audit.entries().last { $0.event == "request.approved" })
        #expect(approved.body.scopes == ["profile.email"])
    }

    @Test func aDecisionTheHostDeletedKeepsItsTimeAndReason() async throws {
        let f = try Fixture()
        let vendor = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
        let id = try await f.app().test(.router) { client in
            try #require(try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"]))).1["id"])
        }
        f.clock.advance(by: 120)
        let denied = try f.vault.requests.deny(id: id, reason: "not needed")
        try rawExecute(f.dir.file("vault.db"), "UPDATE access_requests SET status = 'pending', decision_sealed = NULL, decided_at = NULL WHERE id = '\(id)'")
        let shown = try f.vault.requests.request(id: id)
        #expect(shown.status == .denied && shown.decidedAt == denied.decidedAt && shown.reason == "not needed")
    }

    @Test func aKeyRotationKeepsLinksRequestsAndDecisions() async throws {
        let f = try Fixture()
        let vendor = try AskingVendor(link: try f.vault.requests.link(vendor: "Cobalt", expiresIn: 600, endpoint: "https://vault.example"))
        let other = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
        let (approved, pending) = try await f.app().test(.router) { client in
            (
                try #require(try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"]))).1["id"]),
                try #require(try await post(client, try other.submission(other.body(scopes: ["profile.email"]))).1["id"])
            )
        }
        _ = try f.vault.requests.approve(id: approved, narrowing: RequestNarrowing())
        try f.vault.rotateKey(current: try testPassphrase(), new: try testPassphrase())
        let vault = try Vault.unlock(path: f.dir.file("vault.db"), passphrase: try testPassphrase())
        #expect(try vault.requests.request(id: approved).status == .approved)
        #expect(try vault.requests.request(id: approved).linkVendor == "Cobalt")
        // A request sealed to the retired key still opens, and can be decided.
        #expect(try vault.requests.request(id: pending).status == .pending)
        #expect(try vault.requests.deny(id: pending, reason: nil).status == .denied)
    }

    @Test func aRequestStaysReadableAfterItsLinkExpiredAndNewLinksWereMade() async throws {
        let f = try Fixture()
        let vendor = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 60, endpoint: "https://vault.example"))
        let id = try await f.app().test(.router) { client in
            try #require(try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"]))).1["id"])
        }
        // The host clears `used_at` (outside the digest); the link expires; a new link is made.
        try rawExecute(f.dir.file("vault.db"), "UPDATE request_links SET used_at = NULL")
        f.clock.advance(by: 8 * 86_400)
        _ = try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example")
        #expect(try f.vault.requests.request(id: id).status == .expired)
        #expect(try f.vault.requests.request(id: id).body != nil)
    }

    @Test func anExistingVendorWithAnotherKeyIsNotTakenOver() async throws {
        let f = try Fixture()
        // "Bolt" exists with its own key; a request in its name with another key is refused.
        let vendor = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
        try await f.app().test(.router) { client in
            let (_, answer) = try await post(client, try vendor.submission(vendor.body(scopes: ["profile.email"], name: "Bolt")))
            let id = try #require(answer["id"])
            #expect(throws: VaultError.self) { try f.vault.requests.approve(id: id, narrowing: RequestNarrowing()) }
            #expect(try f.vault.requests.request(id: id).status == .pending)
        }
        // Nor by a look-alike name: each request is refused outright (unreadable: a format
        // character, mixed scripts) or cannot be approved, and no vendor is added.
        func refused(_ names: [String]) async throws {
            let vendors = try f.vault.vendors.all().count
            for name in names {
                let other = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
                try await f.app().test(.router) { client in
                    let (_, answer) = try await post(client, try other.submission(other.body(scopes: ["profile.email"], name: name)))
                    let id = try #require(answer["id"])
                    let opened = try f.vault.requests.request(id: id)
                    if opened.status == .pending {
                        #expect(throws: VaultError.self, "\(name)") { try f.vault.requests.approve(id: id, narrowing: RequestNarrowing()) }
                    } else {
                        #expect(opened.status == .unreadable, "\(name)")
                    }
                }
            }
            #expect(try f.vault.vendors.all().count == vendors)
        }
        // "Café" decomposed, with an invisible character, or with a Cyrillic а.
        try f.vault.vendors.add(name: "Caf\u{E9}")
        try await refused(["Cafe\u{301}", "CA\u{200B}F\u{C9}", "C\u{430}f\u{E9}"])
        // Written wholly in letters of another script that look like it: "Асме" (Cyrillic А, с,
        // м, е) for the fixture's "Acme", "ΑϹΜΕ" in Greek capitals, "Воlt" for "Bolt".
        try await refused(["\u{410}\u{441}\u{43C}\u{435}", "\u{391}\u{3F9}\u{39C}\u{395}", "\u{412}\u{43E}lt"])
        // Latin small capitals, a Latin alpha, a Cherokee A, the estimated sign, marks, and the
        // braille blank (which shows as a space).
        try await refused([
            "\u{1D00}\u{1D04}\u{1D0D}\u{1D07}", "\u{251}cme", "\u{13AA}cme", "Acm\u{212E}", "Acme\u{301}", "Acme\u{323}", "Acme\u{2800}",
        ])
    }

    @Test func whatAVendorWroteIsQuotedWithoutItsControlCharacters() async throws {
        // An unknown scope or purpose is quoted in the reason the customer reads; an escape
        // sequence or a direction override in it would otherwise reach the terminal (outside check).
        let f = try Fixture()
        for (scopes, purpose) in [(["profile.\u{1B}[31mred"], "support"), (["profile.email"], "x\u{1B}[2J\u{202E}")] {
            let vendor = try AskingVendor(link: try f.vault.requests.link(vendor: nil, expiresIn: 600, endpoint: "https://vault.example"))
            try await f.app().test(.router) { client in
                let (_, answer) = try await post(client, try vendor.submission(vendor.body(scopes: scopes, purpose: purpose)))
                let request = try f.vault.requests.request(id: try #require(answer["id"]))
                let problem = try #require(request.problem)
                #expect(request.status == .unreadable && problem.contains("unknown") && problem.contains("?"), "\(problem)")
                #expect(!problem.unicodeScalars.contains { ImportProblem.isUnsafe($0) }, "\(problem)")
            }
        }
    }

    @Test func aVendorKeyWithAnythingAroundItIsRefused() throws {
        let key = VendorKeyText.encodePublic(try BoxKeyPair.generate().publicKey)
        let body = AccessRequestBody(vendor: .init(name: "Cobalt"), vendorKey: key, scopes: ["profile.email"], purpose: "support", expiresIn: 3600)
        #expect(throws: Never.self) { try body.check() }
        for wrapped in [key + "\r", " " + key, key + "\n", key + "\u{1B}[2K"] {
            var changed = body
            changed.vendorKey = wrapped
            #expect(throws: VaultError.self) { try changed.check() }
        }
        var marks = body
        marks.vendor.name = "C" + String(repeating: "\u{301}", count: 1000)
        #expect(throws: VaultError.self) { try marks.check() }
    }
}
