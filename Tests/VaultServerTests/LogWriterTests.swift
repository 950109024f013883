import Foundation
import Logging
import NIOCore
import Testing
@testable import VaultServer

@Suite struct LogWriterTests {
    /// Reads what is in the pipe now, without blocking.
    func available(_ pipe: Pipe) -> String {
        let fd = pipe.fileHandleForReading.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            out += chunk[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func linesLeaveInOrderInBlocksAndOnFlush() throws {
        let pipe = Pipe()
        let writer = BlockWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        writer.write(line: Array("{\"a\":1}".utf8))
        writer.write(line: Array("{\"b\":2}".utf8))
        #expect(available(pipe) == "", "a short block waits for the timer or a flush")
        writer.flush()
        #expect(available(pipe) == "{\"a\":1}\n{\"b\":2}\n")
        // A full block goes out at once, whole and in order.
        let line = String(repeating: "x", count: 999)
        for _ in 0..<20 { writer.write(line: Array(line.utf8)) }
        let written = available(pipe)
        #expect(written.count >= BlockWriter.blockBytes && written.split(separator: "\n").allSatisfy { $0 == line })
        writer.flush()
        #expect((written + available(pipe)).split(separator: "\n").count == 20)
    }

    @Test func theTimerWritesAShortBlockWithinMoments() async throws {
        let pipe = Pipe()
        let writer = BlockWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor)
        writer.write(line: Array("late".utf8))
        var seen = ""
        for _ in 0..<50 where seen.isEmpty {
            try await Task.sleep(for: .milliseconds(20))
            seen = available(pipe)
        }
        #expect(seen == "late\n")
    }

    @Test func theServerLogHandlerKeepsMetadataUntilItLogs() {
        var handler = ServerLogHandler(label: "test")
        handler[metadataKey: "hb.request.id"] = "42"
        handler.logLevel = .error
        #expect(handler[metadataKey: "hb.request.id"] == "42")
        #expect(handler.metadata == ["hb.request.id": "42"])
        #expect(handler.logLevel == .error)
    }
}

@Suite struct ClientAddressTests {
    @Test(arguments: ["127.0.0.1", "10.20.30.40", "255.255.255.255", "0.0.0.0", "::1", "2001:db8::7"])
    func clientAddressesReadLikeNIOs(_ ip: String) throws {
        let address = try SocketAddress(ipAddress: ip, port: 4242)
        #expect(VaultRequestContext.ipText(address) == address.ipAddress)
        #expect(VaultRequestContext.ipText(address) == ip)
    }

    @Test func anUnknownPeerIsNamedSo() {
        #expect(VaultRequestContext.ipText(nil) == "unknown")
    }
}

@Suite struct AccessLogLineTests {
    @Test(arguments: ["plain", "", "quote \" and \\ back", "tab\tnew\nline\u{1}", "ünïcödé ✓"])
    func quotedTextIsAJSONStringOfTheSameText(_ text: String) throws {
        let json = "[" + AccessLog.quoted(text) + "]"
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String] == [text])
    }

    @Test func theLineIsJSONWithMillisecondsAndNoQuery() throws {
        let lines = LogLinesBox()
        let log = AccessLog(sink: { lines.append($0) })
        log.record(method: "GET", path: "/v1/share?token=secret", status: 200, started: .now - .microseconds(1_234_567),
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
