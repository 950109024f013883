import Dispatch
import Foundation
import Synchronization

/// One JSON line per request. Never contains a token, a query string or any header but the user agent's length-bounded text.
public struct AccessLog: Sendable {
    private enum Output: Sendable {
        /// Bytes straight into a block writer (the server's standard error).
        case block(BlockWriter)
        /// Each line as text (tests, and callers that keep no log).
        case lines(@Sendable (String) -> Void)
    }

    private let output: Output
    /// Whether lines name the client's address and user agent (the relay's do not: `Specs/relay.md`).
    private var recordsClient = true
    /// The ISO 8601 text of the current second.
    private let clockText = PerSecondText { $0.formatted(.iso8601) }

    /// Writes lines to standard error, in blocks (see `BlockWriter`).
    public init() {
        output = .block(.standardError)
    }

    /// Hands each line to `sink`.
    public init(sink: @escaping @Sendable (String) -> Void) {
        output = .lines(sink)
    }

    /// The same log, with `"client":"-"` in every line: the relay keeps no client address
    /// outside the sealed history entries.
    public func withoutClients() -> AccessLog {
        var log = self
        log.recordsClient = false
        return log
    }

    /// Writes out lines still gathered for standard error (at shutdown).
    public static func flush() {
        BlockWriter.standardError.flush()
    }

    func record(method: String, path: String, status: Int, started: ContinuousClock.Instant, client: String, userAgent: String?, bytes: Int?) {
        let elapsed = ContinuousClock.now - started
        // Whole microseconds, written as milliseconds with three decimals.
        let micros = Int(max(0, elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
        // Only the route, never the rest of the path or the query (`Routes.logged`).
        let safePath = Routes.logged(path)
        // Built by hand as bytes: this runs for every request, and JSONEncoder (or strings
        // built piece by piece) cost more than the rest of the line's work.
        var line: [UInt8] = []
        line.reserveCapacity(180 + safePath.utf8.count + (userAgent?.utf8.count ?? 0))
        line += #"{"bytes":"#.utf8
        if let bytes { Self.appendDecimal(bytes, to: &line) } else { line += "null".utf8 }
        line += #","client":"#.utf8
        Self.appendQuoted(recordsClient ? client[...] : "-", to: &line)
        line += #","duration_ms":"#.utf8
        Self.appendDecimal(micros / 1000, to: &line)
        line.append(UInt8(ascii: "."))
        let fraction = micros % 1000
        if fraction < 100 { line.append(UInt8(ascii: "0")) }
        if fraction < 10 { line.append(UInt8(ascii: "0")) }
        Self.appendDecimal(fraction, to: &line)
        line += #","method":"#.utf8
        Self.appendQuoted(method[...], to: &line)
        line += #","path":"#.utf8
        Self.appendQuoted(safePath[...], to: &line)
        line += #","status":"#.utf8
        Self.appendDecimal(status, to: &line)
        line += #","ts":""#.utf8
        line += clockText.now().utf8
        line += #"","user_agent":"#.utf8
        if recordsClient, let userAgent { Self.appendQuoted(userAgent.prefix(200), to: &line) } else { line += "null".utf8 }
        line.append(UInt8(ascii: "}"))
        switch output {
        case .block(let writer): writer.write(line: line)
        case .lines(let sink): sink(String(decoding: line, as: UTF8.self))
        }
    }

    /// Appends a non-negative integer's decimal digits.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value >= 10 else { return out.append(UInt8(ascii: "0") + UInt8(max(0, value))) }
        appendDecimal(value / 10, to: &out)
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendQuoted(text[...], to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal; text with nothing to escape is copied whole.
    static func appendQuoted(_ text: Substring, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        defer { out.append(UInt8(ascii: "\"")) }
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out += text.utf8
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += #"\""#.utf8
            case "\\": out += #"\\"#.utf8
            case "\n": out += #"\n"#.utf8
            case "\r": out += #"\r"#.utf8
            case "\t": out += #"\t"#.utf8
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value).utf8
            default: out += String(scalar).utf8
            }
        }
    }
}

/// Text that depends only on the current second (a log timestamp, the HTTP `Date` header),
/// formatted once per second rather than per request. Shared by all copies of its owner.
final class PerSecondText: Sendable {
    private let state = Mutex<(second: Int, text: String)>((-1, ""))
    private let format: @Sendable (Date) -> String

    init(format: @escaping @Sendable (Date) -> String) {
        self.format = format
    }

    func now() -> String {
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        return state.withLock { cache in
            if cache.second != second { cache = (second, format(now)) }
            return cache.text
        }
    }
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

    func write(line: [UInt8]) {
        let schedule = state.withLock { state -> Bool in
            state.buffer.append(contentsOf: line)
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
