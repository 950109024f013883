import Foundation
import Testing
import VaultCore
import VaultCrypto
import VaultTestSupport
@testable import VaultRelay

extension RelaySuites {
    /// The relay's store on a real, throwaway PostgreSQL cluster.
    @Suite("Relay database on PostgreSQL")
    struct RelayDatabaseTests {
        @Test("a throwaway cluster starts, migrates twice, answers and stops")
        func clusterLifecycle() async throws {
            try await blocking { try Self.lifecycle() }
        }

        static func lifecycle() throws {
            let cluster = try ThrowawayPostgres.start()
            let database = try RelayDatabase(location: .parse(cluster.url, allowPassword: true), poolSize: 2)
            try database.migrate()
            try database.migrate()
            #expect(database.ping())
            database.close()
            cluster.stop()
            #expect(!FileManager.default.fileExists(atPath: cluster.directory))
            #expect(!database.ping())
        }

        @Test("a round of webhook deliveries takes at most four events of one vault, so another vault's event goes in it too")
        func webhookRoundsAreFair() async throws {
            try await blocking {
                let cluster = try ThrowawayPostgres.start()
                defer { cluster.stop() }
                let database = try RelayDatabase(location: .parse(cluster.url, allowPassword: true), poolSize: 2)
                defer { database.close() }
                try database.migrate()
                _ = try cluster.psql(
                    "INSERT INTO relay_vaults (id, sign_key, box_key, enrolled_at, tip_hash) VALUES ('\\x01', '', '', 0, ''), ('\\x02', '', '', 0, '')")
                // Vault 1: twenty events due first; vault 2: one, due last.
                for n in 0..<20 {
                    _ = try cluster.psql(
                        "INSERT INTO relay_webhooks (id, vault_id, grant_id, url, body, created_at, next_at) VALUES ('ev_1_\(n)', '\\x01', 'gr_a', 'https://a.example/', '', 0, \(n))"
                    )
                }
                _ = try cluster.psql(
                    "INSERT INTO relay_webhooks (id, vault_id, grant_id, url, body, created_at, next_at) VALUES ('ev_2', '\\x02', 'gr_b', 'https://b.example/', '', 0, 100)"
                )
                let store = RelayWebhookStore(database: database)
                let first = try store.dueDeliveries(nowMillis: 1000, limit: 50).map(\.id)
                #expect(first.count == RelayWebhookStore.perVault + 1 && first.contains("ev_2"))
                #expect(first.filter { $0.hasPrefix("ev_1_") } == (0..<RelayWebhookStore.perVault).map { "ev_1_\($0)" })
                // Claimed: the next round (another node) takes the vault's next four, not these.
                let second = try store.dueDeliveries(nowMillis: 1000, limit: 50).map(\.id)
                #expect(Set(second).isDisjoint(with: first) && second.count == RelayWebhookStore.perVault)
            }
        }
    }
}
