import Foundation
import Testing
import VaultCore
import VaultTestSupport

/// The vault's queue of grant changes for a linked relay (`relay_outbox`), without a relay.
@Suite("Relay queue in the vault")
struct RelayQueueTests {
    @Test("a link queues every grant; issues, new share versions and revocations queue theirs; use counts do not")
    func whatQueues() throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme")
        let before = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profileField("email")], purpose: .delivery, expiresAt: nil))
        #expect(try vault.relay.queued().isEmpty)
        try vault.relay.link(url: "https://relay.example")
        #expect(try vault.relay.queued() == [before.grant.id])
        let (states, _) = try vault.relay.grantStates(ids: [before.grant.id])
        try vault.relay.dequeue(states)
        #expect(try vault.relay.queued().isEmpty)
        // A redemption (the server's use count) queues nothing.
        _ = try Redeemer(database: vault.database).redeem(
            RedemptionRequest(token: before.token.encoded()[...], client: "127.0.0.1", userAgent: nil, held: nil))
        #expect(try vault.relay.queued().isEmpty)
        let after = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profileField("email")], purpose: .delivery, expiresAt: nil))
        #expect(try vault.relay.queued() == [after.grant.id])
        try vault.relay.dequeue(try vault.relay.grantStates(ids: [after.grant.id]).grants)
        try vault.profile.set("email", value: "jo@new.example")
        #expect(Set(try vault.relay.queued()) == [before.grant.id, after.grant.id])
    }

    @Test("a grant changed after it was read for a push stays queued when the push is acknowledged")
    func changedMeanwhileStaysQueued() throws {
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme")
        try vault.relay.link(url: "https://relay.example")
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profileField("email")], purpose: .delivery, expiresAt: nil))
        let pushed = try vault.relay.grantStates(ids: [issued.grant.id]).grants
        // Meanwhile another command revokes it; the acknowledgement of the older push arrives.
        try vault.grants.revoke(id: issued.grant.id)
        try vault.relay.dequeue(pushed)
        #expect(try vault.relay.queued() == [issued.grant.id])
        let revoked = try vault.relay.grantStates(ids: [issued.grant.id]).grants
        #expect(revoked.first?.revokedAt != nil && revoked.first?.share == nil)
        try vault.relay.dequeue(revoked)
        #expect(try vault.relay.queued().isEmpty)
        // The link and the queue survive reopening the vault (both are in the records digest).
        let reopened = try Vault.unlock(path: dir.file("vault.db"), passphrase: try testPassphrase())
        #expect(try reopened.relay.state()?.url == "https://relay.example")
    }
}
