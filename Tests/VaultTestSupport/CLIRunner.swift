public import Foundation

/// Runs the built `vrm` binary as a user would, with a controlled environment.
public struct CLIRunner: Sendable {
    public struct Result: Sendable {
        public var status: Int32
        public var out: String
        public var err: String
    }

    public let dir = TemporaryDirectory()

    public init() {}

    /// `vrm` sits beside the test bundle in the build directory.
    public static var binary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("vrm").path
    }

    public var vault: String { dir.file("vault.db") }

    /// An environment with only what the test gives: no passphrase unless asked.
    public func environment(_ extra: [String: String]) -> [String: String] {
        var env = ["PATH": "/usr/bin:/bin", "HOME": dir.path, "XDG_STATE_HOME": dir.file("state"), "VRM_VAULT": vault, "NO_COLOR": "1"]
        env.merge(extra) { _, new in new }
        return env
    }

    public func writePassphrase(_ text: String, name: String = "pw") -> String {
        let path = dir.file(name)
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        return path
    }

    /// Runs `vrm args…`; `detached` runs it in a new session with no controlling terminal.
    @discardableResult
    public func run(_ args: [String], env: [String: String] = [:], detached: Bool = true, executable: String? = nil, input: Data? = nil) throws -> Result {
        let process = Process()
        if detached {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
            process.arguments = ["--wait", executable ?? Self.binary] + args
        } else {
            process.executableURL = URL(fileURLWithPath: executable ?? Self.binary)
            process.arguments = args
        }
        process.environment = environment(env)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            try stdin.fileHandleForWriting.write(contentsOf: input)
            try stdin.fileHandleForWriting.close()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
    }

    /// `vrm init` with a passphrase file; returns the environment that unlocks it.
    public func initVault(passphrase: String = "correct horse") throws -> [String: String] {
        let file = writePassphrase(passphrase)
        let result = try run(["init", "--passphrase-file", file])
        guard result.status == 0 else { throw CLIRunnerError.failed(result.err) }
        return ["VRM_PASSPHRASE_FILE": file]
    }
}

public enum CLIRunnerError: Error {
    case failed(String)
}
