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
    }
}
