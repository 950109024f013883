import Foundation

/// A long-running `vrm` command (`serve`, `relay serve`) in the background, with `--port 0`:
/// started, its port read from its "listening on" line, and stopped (SIGTERM) by `stop` or
/// at deinit.
public final class BackgroundCommand: @unchecked Sendable {
    let process = Process()
    public let port: Int
    let logPath: String
    let outPath: String

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ runner: CLIRunner, _ args: [String], env: [String: String] = [:], name: String = "server") throws {
        let stem = runner.dir.file("\(name)-\(UUID().uuidString.prefix(8))")
        logPath = stem + ".log"
        outPath = stem + ".out"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        FileManager.default.createFile(atPath: outPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        process.arguments = args
        process.environment = runner.environment(env)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var found: Int?
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on https?://[^:]+:(\d+)"#, options: .regularExpression) {
                found = text[range].split(separator: ":").last.flatMap { Int($0) }
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let found else {
            process.terminate()
            throw Failed(description: "vrm \(args.joined(separator: " ")) did not start: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        }
        port = found
    }

    deinit { stop() }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// What it wrote to stderr so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    /// What it wrote to stdout so far.
    public var out: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    public var isRunning: Bool { process.isRunning }
    public var pid: Int32 { process.processIdentifier }
    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Sends `signal` and waits (up to `seconds`) for the exit; true when it exited.
    public func signal(_ signal: Int32, waitingUpTo seconds: Double = 30) -> Bool {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return !process.isRunning
    }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Runs blocking work (a child process, a sleep-and-poll) on a thread of its own, so that async
/// tests do not hold the cooperative pool: on two cores it has two threads, and the in-process
/// servers of other suites answer on them.
public func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
