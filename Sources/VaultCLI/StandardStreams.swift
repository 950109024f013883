import Foundation

/// `-` for standard input or output wherever a command reads or writes a file.
enum StandardStreams {
    static let name = "-"

    /// The file's bytes, or standard input's for `-`; errors name the path and the reason.
    static func read(_ path: String, what: String = "", limit: Int = 256 << 20) throws -> Data {
        let label = what.isEmpty ? path : "\(what) \(path)"
        if path == name {
            let data = try FileHandle.standardInput.read(upToCount: limit + 1) ?? Data()
            guard data.count <= limit else { throw CLIError.usage("standard input is larger than \(size(limit))") }
            return data
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw CLIError(description: "cannot read \(label): \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw CLIError(description: "cannot read \(label): it is a folder") }
        guard info.st_size <= limit else { throw CLIError.usage("\(label) is larger than \(size(limit))") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CLIError(description: "cannot read \(label): \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        // A FIFO or a file still growing reports no size: the read itself is checked too.
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else { throw CLIError.usage("\(label) is larger than \(size(limit))") }
        return data
    }

    /// `64 KiB`, `256 MiB`, `4096 bytes`.
    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : bytes >= 1 << 10 ? "\(bytes >> 10) KiB" : "\(bytes) bytes"
    }

    /// Whether standard input is taken as the passphrase (`--passphrase-file -` or
    /// `VRM_PASSPHRASE_FILE=-`), so nothing else may read it.
    static func passphraseReadsStandardInput(_ unlock: UnlockOptions) -> Bool {
        (unlock.passphraseFile ?? ProcessInfo.processInfo.environment["VRM_PASSPHRASE_FILE"]) == name
    }

    /// Writes to standard output, all of it.
    static func writeOut(_ data: Data) throws {
        do {
            try FileHandle.standardOutput.write(contentsOf: data)
        } catch {
            throw CLIError(description: "cannot write to standard output: \(error.localizedDescription)")
        }
    }
}
