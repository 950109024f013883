import Foundation
import Testing
@testable import VaultServer

@Suite struct AccessLogLineTests {
    @Test(arguments: ["plain", "", "quote \" and \\ back", "tab\tnew\nline\u{1}", "ünïcödé ✓"])
    func quotedTextIsAJSONStringOfTheSameText(_ text: String) throws {
        let json = "[" + AccessLog.quoted(text) + "]"
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String] == [text])
    }

    @Test func theLineIsJSONWithMillisecondsAndNoQuery() throws {
        let lines = LogLinesBox()
        let log = AccessLog(sink: { lines.append($0) })
        log.record(
            method: "GET", path: "/v1/share?token=secret", status: 200, started: .now - .microseconds(1_234_567),
            client: "127.0.0.1", userAgent: nil, bytes: 1060)
        let line = try #require(lines.all.first)
        #expect(!line.contains("secret"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["path"] as? String == "/v1/share" && json["bytes"] as? Int == 1060 && json["user_agent"] is NSNull)
        let ms = try #require(json["duration_ms"] as? Double)
        #expect(ms >= 1234.567 && ms < 1300)
    }
}

final class LogLinesBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
