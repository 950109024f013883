import Foundation

/// One JSON line per request. Never contains a token, a query string or any header but the user agent's length-bounded text.
public struct AccessLog: Sendable {
    let sink: @Sendable (String) -> Void

    /// Writes lines with `sink` (default: standard error).
    public init(sink: @escaping @Sendable (String) -> Void = AccessLog.standardError) {
        self.sink = sink
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    struct Line: Encodable {
        var ts: String
        var method: String
        var path: String
        var status: Int
        var durationMs: Double
        var client: String
        var userAgent: String?
        var bytes: Int?

        enum CodingKeys: String, CodingKey {
            case ts, method, path, status, client, bytes
            case durationMs = "duration_ms", userAgent = "user_agent"
        }
    }

    func record(method: String, path: String, status: Int, started: ContinuousClock.Instant, client: String, userAgent: String?, bytes: Int?) {
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        // Only the path, never the query: a careless client might put a token there.
        let safePath = String(path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").prefix(200)
        let line = Line(ts: Date().formatted(.iso8601), method: method, path: String(safePath), status: status,
                        durationMs: (ms * 1000).rounded() / 1000, client: client,
                        userAgent: userAgent.map { String($0.prefix(200)) }, bytes: bytes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let data = try? encoder.encode(line) {
            sink(String(decoding: data, as: UTF8.self))
        }
    }
}
