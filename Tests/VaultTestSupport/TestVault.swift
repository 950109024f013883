public import Foundation
import GRDB
public import VaultCore
public import VaultCrypto

/// A temporary directory removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init() {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vrm-test-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A settable clock for expiry tests.
public final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    public var now: Date { lock.withLock { current } }
    public func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }
    public var closure: VaultClock { { [self] in self.now } }
}

/// A test passphrase in secure memory.
public func testPassphrase(_ text: String = "correct horse battery staple") throws -> SecretKey {
    var bytes = Array(text.utf8)
    return try SecretKey(wiping: &bytes)
}

/// A fresh vault with the cheapest KDF (tests only).
public func makeVault(
    in directory: TemporaryDirectory, name: String = "vault.db", clock: VaultClock? = nil,
    checkpoints: AuditCheckpointStore? = nil
) throws -> Vault {
    try Vault.create(
        path: directory.file(name), passphrase: try testPassphrase(), kdf: .minimumForTests,
        clock: clock ?? { Date() }, checkpoints: checkpoints)
}

/// The raw bytes of the vault file and its WAL, for "no plaintext on disk" checks.
public func rawVaultBytes(_ path: String) -> [Data] {
    [path, path + "-wal", path + "-shm"].compactMap { FileManager.default.contents(atPath: $0) }
}

/// Whether `needle` occurs in the vault file or its WAL.
public func rawVaultContains(_ path: String, _ needle: String) -> Bool {
    rawVaultBytes(path).contains { $0.range(of: Data(needle.utf8)) != nil }
}

/// Runs a shell-free sqlite3-like statement on the file through GRDB, outside the vault code.
public func rawExecute(_ path: String, _ sql: String) throws {
    let queue = try RawDatabase.open(path)
    try queue.execute(sql)
}

/// The logical content of a vault file (see `RawDatabase.dump`).
public func logicalDump(_ path: String) throws -> String {
    try RawDatabase.open(path).dump()
}
