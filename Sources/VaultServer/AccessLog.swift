import Foundation
import Synchronization

/// One JSON line per request. Never contains a token, a query string or any header but the user agent's length-bounded text.
public struct AccessLog: Sendable {
    let sink: @Sendable (String) -> Void
    /// The ISO 8601 text of the current second, formatted once per second, not per request.
    private let clockText = SecondText()

    /// Writes lines with `sink` (default: standard error).
    public init(sink: @escaping @Sendable (String) -> Void = AccessLog.standardError) {
        self.sink = sink
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func record(method: String, path: String, status: Int, started: ContinuousClock.Instant, client: String, userAgent: String?, bytes: Int?) {
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        // Only the path, never the query: a careless client might put a token there.
        let safePath = String(path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").prefix(200)
        // Built by hand: this runs for every request, and JSONEncoder costs more than the rest.
        var line = "{\"bytes\":\(bytes.map(String.init) ?? "null"),\"client\":\(Self.quoted(client))"
        line += ",\"duration_ms\":\((ms * 1000).rounded() / 1000),\"method\":\(Self.quoted(method))"
        line += ",\"path\":\(Self.quoted(String(safePath))),\"status\":\(status),\"ts\":\"\(timestamp())\""
        line += ",\"user_agent\":\(userAgent.map { Self.quoted(String($0.prefix(200))) } ?? "null")}"
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
        var out = "\""
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
        return out + "\""
    }
}

/// A per-second cache shared by all copies of one `AccessLog`.
final class SecondText: Sendable {
    let state = Mutex<(second: Int, text: String)>((-1, ""))
}
