import Testing
import VaultCore
import VaultServer
import VaultTestSupport

/// `vrm serve` needs room for the WAL at its bound and a checkpoint beside the vault, and
/// refuses to start without it rather than fail every redemption later.
@Suite struct FreeSpaceTests {
    @Test func theServerNeedsTheWALBoundTwiceAndRoomToGrow() {
        #expect(VaultDatabase.walBoundBytes == 4000 * (4096 + 24) + 32)
        #expect(VaultDatabase.minimumServerFreeBytes == 64 << 20)
        #expect(VaultDatabase.minimumServerFreeBytes >= 2 * VaultDatabase.walBoundBytes + (32 << 20))
    }

    @Test func theVaultsFileSystemReportsItsFreeSpace() throws {
        let f = try Fixture()
        let free = try #require(f.vault.database.freeBytes())
        #expect(free > 0)
    }

    @Test func theServerRefusesToStartWithTooLittleFreeSpace() throws {
        let f = try Fixture()
        let database = try VaultDatabase.open(path: f.dir.file("vault.db"))
        #expect {
            _ = try buildApplication(database: database, options: ServerOptions(host: "127.0.0.1", port: 0, minimumFreeBytes: .max))
        } throws: { error in
            guard case VaultError.storage(let message) = error else { return false }
            return message.contains("MiB free on the disk that holds") && message.contains("needs at least")
        }
    }
}
