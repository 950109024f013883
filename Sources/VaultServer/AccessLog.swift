import Dispatch
import Foundation
import Synchronization

/// One JSON line per request. Never contains a token, a query string or any header but the user agent's length-bounded text.
public struct AccessLog: Sendable {
    let sink: @Sendable (String) -> Void
    /// The ISO 8601 text of the current second, formatted once per second, not per request.
    private let clockText = SecondText()

    /// Writes lines with `sink` (default: standard error, in blocks — see `BlockWriter`).
    public init(sink: @escaping @Sendable (String) -> Void = AccessLog.standardError) {
        self.sink = sink
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        BlockWriter.standardError.write(line)
    }

    /// Writes out lines still gathered for standard error (at shutdown).
    public static func flush() {
        BlockWriter.standardError.flush()
    }

    func record(method: String, path: String, status: Int, started: ContinuousClock.Instant, client: String, userAgent: String?, bytes: Int?) {
        let elapsed = ContinuousClock.now - started
        // Whole microseconds, written as milliseconds with three decimals.
        let micros = max(0, elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
        // Only the path, never the query: a careless client might put a token there.
        let safePath = path[..<(path.firstIndex(of: "?") ?? path.endIndex)].prefix(200)
        // Built by hand into one buffer: this runs for every request, and JSONEncoder (or string
        // interpolation piece by piece) costs more than the rest of the line's work.
        var line = ""
        line.reserveCapacity(160 + safePath.utf8.count + (userAgent?.utf8.count ?? 0))
        line += "{\"bytes\":"
        line += bytes.map(String.init) ?? "null"
        line += ",\"client\":"
        Self.appendQuoted(client[...], to: &line)
        line += ",\"duration_ms\":"
        line += String(micros / 1000)
        line += "."
        let fraction = String(micros % 1000)
        line += String(repeating: "0", count: 3 - fraction.utf8.count)
        line += fraction
        line += ",\"method\":"
        Self.appendQuoted(method[...], to: &line)
        line += ",\"path\":"
        Self.appendQuoted(safePath, to: &line)
        line += ",\"status\":"
        line += String(status)
        line += ",\"ts\":\""
        line += timestamp()
        line += "\",\"user_agent\":"
        if let userAgent { Self.appendQuoted(userAgent.prefix(200), to: &line) } else { line += "null" }
        line += "}"
        sink(line)
    }

    func timestamp() -> String {
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        return clockText.state.withLock { cache in
            if cache.second != second { cache = (second, now.formatted(.iso8601)) }
            return cache.text
        }
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = ""
        appendQuoted(text[...], to: &out)
        return out
    }

    /// Appends `text` as a JSON string literal; text with nothing to escape is copied whole.
    static func appendQuoted(_ text: Substring, to out: inout String) {
        out += "\""
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// A per-second cache shared by all copies of one `AccessLog`.
final class SecondText: Sendable {
    let state = Mutex<(second: Int, text: String)>((-1, ""))
}

/// Lines for a file descriptor, gathered in memory and written with one `write(2)` per block:
/// when 16 KiB have gathered, 100 ms after the first line of a block, or on `flush()`. One system
/// call per request was a measurable share of the server's CPU per request. A crash loses at
/// most the last 100 ms of access-log lines; the share history, not this log, is the record.
final class BlockWriter: Sendable {
    static let standardError = BlockWriter(descriptor: 2)
    static let blockBytes = 16 * 1024
    static let delay = DispatchTimeInterval.milliseconds(100)

    private let descriptor: Int32
    private let state = Mutex<(buffer: [UInt8], flushScheduled: Bool)>(([], false))
    private let timer = DispatchQueue(label: "vrm.server.log-writer")

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    func write(_ line: String) {
        let schedule = state.withLock { state -> Bool in
            state.buffer.append(contentsOf: line.utf8)
            state.buffer.append(0x0A)
            if state.buffer.count >= Self.blockBytes {
                // Written under the lock, so blocks leave in the order their lines came.
                writeAll(state.buffer)
                state.buffer.removeAll(keepingCapacity: true)
                return false
            }
            guard !state.flushScheduled else { return false }
            state.flushScheduled = true
            return true
        }
        if schedule { timer.asyncAfter(deadline: .now() + Self.delay) { self.flush() } }
    }

    func flush() {
        state.withLock { state in
            state.flushScheduled = false
            writeAll(state.buffer)
            state.buffer.removeAll(keepingCapacity: true)
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // stderr closed or full: the log is best effort, the request is not
                }
                offset += written
            }
        }
    }
}
