import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
import VaultCore
import VaultCrypto
import VaultServer
import VaultTestSupport

/// The disk that holds the vault fills while vendors redeem: every 200 has its history entry,
/// `/readyz` says not ready while the writer cannot commit, and both come back once space is
/// freed. Needs root (a small tmpfs is mounted); skipped with a message otherwise.
@Suite struct DiskFullTests {
    /// Statuses received, and the user agents that got a 200.
    final class Tally: Sendable {
        private let state = Mutex<(statuses: [Int: Int], served: [String])>(([:], []))

        func record(_ status: Int, agent: String) {
            state.withLock { state in
                state.statuses[status, default: 0] += 1
                if status == 200 { state.served.append(agent) }
            }
        }

        func count(_ status: Int) -> Int { state.withLock { $0.statuses[status] ?? 0 } }
        var served: [String] { state.withLock { $0.served } }
    }

    /// Mounts a tmpfs of `megabytes` at a new directory; nil (and why) when that is not possible here.
    static func mountTmpfs(megabytes: Int) -> (TemporaryDirectory, String?) {
        let dir = TemporaryDirectory()
        guard getuid() == 0 else { return (dir, "not root") }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", dir.path]
        mount.standardError = FileHandle.nullDevice
        do {
            try mount.run()
            mount.waitUntilExit()
        } catch {
            return (dir, "cannot run mount")
        }
        return (dir, mount.terminationStatus == 0 ? nil : "mount -t tmpfs failed (no CAP_SYS_ADMIN?)")
    }

    static func unmount(_ dir: TemporaryDirectory) {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = ["-l", dir.path]
        try? umount.run()
        umount.waitUntilExit()
    }

    /// Fills the file system that holds `directory` with one file, to the last block.
    static func fill(_ directory: String) -> String {
        let path = directory + "/filler"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let chunk = [UInt8](repeating: 0xA5, count: 64 * 1024)
        var size = chunk.count
        while fd >= 0, size > 0 {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            if written <= 0 { size /= 2 }
        }
        close(fd)
        return path
    }

    /// Whether a tmpfs can be mounted here (root, and mount allowed); tried once.
    static let tmpfsMountable: Bool = {
        let (dir, problem) = mountTmpfs(megabytes: 1)
        if problem == nil { unmount(dir) }
        return problem == nil
    }()

    @Test(.enabled(if: tmpfsMountable, "needs root and mount -t tmpfs"))
    func aFullDiskStopsRedemptionsAndReadinessUntilSpaceIsFreed() async throws {
        let (dir, problem) = Self.mountTmpfs(megabytes: 24)
        try #require(problem == nil, "mount -t tmpfs worked a moment ago: \(problem ?? "")")
        defer { Self.unmount(dir) }
        let vault = try makeVault(in: dir)
        try vault.profile.set("email", value: "jo@example.org")
        try vault.vendors.add(name: "Acme")
        let issued = try vault.grants.create(GrantRequest(vendorName: "Acme", scopes: [.profile], purpose: .delivery, expiresAt: nil))
        let token = issued.token.encoded()
        let database = try VaultDatabase.open(path: dir.file("vault.db"))
        let app = try buildApplication(
            database: database, options: ServerOptions(host: "127.0.0.1", port: 0, minimumFreeBytes: 1 << 20),
            accessLog: AccessLog(sink: { _ in }),
            logger: Logger(label: "disk-full", factory: { _ in SwiftLogNoOpLogHandler() }))
        let tally = Tally()

        try await app.test(.live) { client in
            let port = try #require(client.port)
            func readyz() async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/readyz", method: .get) { $0.status }
            }
            /// Four clients, each sending `count` redemptions with unique user agents.
            func load(_ round: String, count: Int) async throws {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<4 {
                        group.addTask {
                            let vendor = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(20)))
                            vendor.connect()
                            defer { Task { try? await vendor.shutdown() } }
                            for i in 0..<count {
                                let agent = "disk-full-\(round)-\(worker)-\(i)"
                                let response = try await vendor.execute(
                                    .init(
                                        "/v1/share", method: .get, authority: "localhost",
                                        headers: [.authorization: "Bearer \(token)", .userAgent: agent]))
                                let status = Int(response.status.code)
                                tally.record(status, agent: agent)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }

            try await load("before", count: 25)
            #expect(try await readyz() == .ok)
            let filler = Self.fill(dir.path)
            // Under load on a full disk the WAL must grow, and the writer starts failing.
            var failing = false
            for round in 0..<40 where !failing {
                try await load("full-\(round)", count: 25)
                failing = tally.count(500) > 0
            }
            #expect(failing, "the writer never failed on a full disk")
            #expect(try await readyz() == .serviceUnavailable, "not ready while the writer cannot commit")
            #expect(try await readyz() == .serviceUnavailable)

            try FileManager.default.removeItem(atPath: filler)
            #expect(try await readyz() == .ok, "ready again once space is freed, before any redemption")
            let before = tally.served.count
            try await load("after", count: 25)
            #expect(tally.served.count == before + 100, "every redemption succeeds again")
        }

        // Every 200 a vendor received has exactly one share.redeemed entry with its user agent,
        // and the use count is the number of 200s.
        let agents = tally.served
        let entries = try vault.audit.entries().filter { $0.event == "share.redeemed" }
        let recorded = Dictionary(grouping: entries.compactMap(\.body.userAgent), by: { $0 })
        for agent in agents { #expect(recorded[agent]?.count == 1, "200 for \(agent) without exactly one history entry") }
        #expect(entries.count == agents.count)
        #expect(try vault.grants.grant(id: issued.grant.id).useCount == agents.count)
        guard case .intact = try AuditVerifier.verify(vault.database, checkpoint: nil) else { return #expect(Bool(false)) }
    }
}
