import Foundation

/// `-` for standard input or output wherever a command reads or writes a file.
enum StandardStreams {
    static let name = "-"

    /// The file's bytes, or standard input's for `-`; errors name the path and the reason.
    static func read(_ path: String, what: String = "", limit: Int = 256 << 20) throws -> Data {
        let label = what.isEmpty ? path : "\(what) \(path)"
        if path == name {
            let data = try FileHandle.standardInput.read(upToCount: limit + 1) ?? Data()
            guard data.count <= limit else { throw CLIError.usage("standard input is larger than \(limit >> 20) MiB") }
            return data
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw CLIError(description: "cannot read \(label): \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw CLIError(description: "cannot read \(label): it is a directory") }
        guard info.st_size <= limit else { throw CLIError.usage("\(label) is larger than \(limit >> 20) MiB") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CLIError(description: "cannot read \(label): \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        return try handle.read(upToCount: limit + 1) ?? Data()
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
